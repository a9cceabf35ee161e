# Runs a generated OUT/vivado/build.tcl in plain tclsh: every Vivado command is a stub
# (the `unknown` handler) that logs its words, one Tcl list a line, and returns a
# plausible value. Usage: tclsh stub.tcl SCRIPT LOG RUN_DIR
lassign $argv script log run_dir
set ::ferrite_log [open $log w]
proc unknown {args} {
    puts $::ferrite_log [list {*}$args]
    set cmd [lindex $args 0]
    switch -- $cmd {
        get_ipdefs {
            # "vendor:lib:name:*" -> two versions; the script must pick the newest
            set vln [string range [lindex $args end] 0 end-2]
            return [list "${vln}:1.0" "${vln}:7.1"]
        }
        get_board_parts { return "[string range [lindex $args end] 0 end-2]:1.1" }
        get_property {
            switch -- [lindex $args 1] {
                PROGRESS { return "100%" }
                DIRECTORY { return $::stub_run_dir }
                STATUS { return "write_bitstream Complete!" }
            }
            return ""
        }
        make_wrapper { return "/stub/ferrite_wrapper.v" }
        get_bd_pins - get_bd_intf_pins { return "pin:[lindex $args end]" }
        create_bd_cell { return "cell:[lindex $args end]" }
        default { return "stub-$cmd" }
    }
}
set ::stub_run_dir $run_dir
source $script
puts $::ferrite_log "ferrite-stub-end"
close $::ferrite_log

{% include "lib/header.v" -%}
module {{ module }}
{%- if uses_mem %} #(
    // directory of the .mem files, ending in a slash (default: the working directory of the
    // simulator or tool; "./", not "", which Verilog reads as one NUL character)
    parameter MEM_DIR = "./"
)
{%- endif %} (
    input  wire clk,
    input  wire rst,
    /* input windows: {{ in_lanes }} lanes of {{ in_bits }} bits a beat (lane 0 in the LSBs; lane s*{{ pe }}+p of beat (kf, cb) is kernel position kf*{{ simd }}+s, channel cb*{{ pe }}+p), {{ kf }}x{{ nb }} beats a pixel */
    input  wire [{{ in_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: {{ pe }} lanes of {{ out_bits }} bits a beat (lane 0 in the LSBs), {{ nb }} beats a pixel */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// The pipeline advances as one when the output skid buffer has room (a register), so no
// combinational path runs from m_axis_out_tready to s_axis_in_tready. Every input beat
// issues at once: one beat a cycle.
wire adv;
wire issue = adv && s_axis_in_tvalid;
assign s_axis_in_tready = adv;

// ---- beat counters: channel block cb (0..{{ nb }}-1) inside kernel fold kf (0..{{ kf }}-1) ----
reg [{{ nb_msb }}:0] cb_reg;
reg [{{ kf_msb }}:0] kf_reg;
reg [{{ w_addr_msb }}:0] w_addr_reg;
always @(posedge clk) begin
    if (issue) begin
        if (cb_reg == {{ nb_last }}) begin
            cb_reg <= 0;
            kf_reg <= (kf_reg == {{ kf_last }}) ? 0 : kf_reg + {{ kf_one }};
        end else begin
            cb_reg <= cb_reg + {{ nb_one }};
        end
        w_addr_reg <= (w_addr_reg == {{ w_addr_last }}) ? 0 : w_addr_reg + {{ w_addr_one }};
    end
    if (rst) begin
        cb_reg     <= 0;
        kf_reg     <= 0;
        w_addr_reg <= 0;
    end
end

// ---- stage 1: input beat and weights (registered ROM read{% if dp.rom_out_reg %}, then the RAM's output register{% endif %}) ----
{%- include "lib/weight_rom.v" %}
{%- if dp.rom_out_reg %}
// the ROM read (w_rd) and its output register (w_reg) with nothing between them, so the
// block RAM's own output register takes the second; the input waits a stage beside it
{%- if !w_rom_prim %}
reg [{{ w_msb }}:0] w_rd;
{%- endif %}
reg [{{ in_msb }}:0] x_d;
{%- if !w_rom_prim %}
always @(posedge clk) begin
    if (adv) begin
        w_rd <= w_rom[w_addr_reg];
    end
end
always @(posedge clk) begin
    if (adv) begin
        w_reg <= w_rd;
    end
end
{%- endif %}
always @(posedge clk) begin
    if (adv) begin
        x_d   <= s_axis_in_tdata;
        x_reg <= x_d;
    end
end
{%- else %}
always @(posedge clk) begin
    if (adv) begin
        x_reg <= s_axis_in_tdata;
        w_reg <= w_rom[w_addr_reg];
    end
end
{%- endif %}

// control travelling with the data: valid, {% if !acc_store.is_none() %}first and {% endif %}last kernel fold{% if acc_store.is_ram() %}, channel block{% endif %}
reg [{{ ctl_msb }}:0] valid_sr;
{%- if !acc_store.is_none() %}
reg [{{ ctl_msb }}:0] first_sr;
{%- endif %}
reg [{{ ctl_msb }}:0] last_sr;
{%- if acc_store.is_ram() %}
reg [{{ nb_sr_msb }}:0] cb_sr;
{%- endif %}
always @(posedge clk) begin
    if (adv) begin
        valid_sr <= {valid_sr[{{ ctl_prev_msb }}:0], issue};
{%- if !acc_store.is_none() %}
        first_sr <= {first_sr[{{ ctl_prev_msb }}:0], kf_reg == {{ kf_zero }}};
{%- endif %}
        last_sr  <= {last_sr[{{ ctl_prev_msb }}:0], kf_reg == {{ kf_last }}};
{%- if acc_store.is_ram() %}
        cb_sr    <= {cb_sr[{{ nb_sr_prev_msb }}:0], cb_reg};
{%- endif %}
    end
    if (rst) begin
        valid_sr <= 0;
    end
end

// ---- stage 2: {% if xnor %}XNOR of bipolar inputs and weights, counted in groups{% else %}products{% endif %}, {{ dp.leaf_bits }} bits each ----
{%- include "lib/mac_product.v" %}

// ---- adder tree over the {{ dp.leaves }} leaves (kernel positions) of each PE{% if dp.levels.len() > 0 %}, registered every {{ dp.reg_every }} levels{% endif %} ----
{%- include "lib/adder_tree.v" %}
wire tree_valid = valid_sr[{{ ctl_msb }}];
{%- if !acc_store.is_none() %}
wire tree_first = first_sr[{{ ctl_msb }}];
{%- endif %}
wire tree_last = last_sr[{{ ctl_msb }}];

// ---- accumulators: {{ channels }} channels of {{ acc_bits }} bits ----
// acc_reg: the finished sums of one output beat ({{ pe }} channels)
reg [{{ acc_all_msb }}:0] acc_reg;
reg acc_valid_reg;
{%- if acc_store.is_ram() %}
// {{ nb }} channel blocks of {{ pe }} sums in a RAM read one stage ahead (acc_rd_reg holds
// block cb when its beat leaves the adder tree). Consecutive beats hit different blocks, so
// a block is written at least one cycle before it is read again: no read-after-write hazard.
reg [{{ acc_all_msb }}:0] acc_mem [0:{{ acc_mem_last }}];
reg [{{ acc_all_msb }}:0] acc_rd_reg;
wire [{{ nb_msb }}:0] acc_rd_addr = cb_sr[{{ nb_rd_lsb }} +: {{ nb_bits }}];
wire [{{ nb_msb }}:0] acc_wr_addr = cb_sr[{{ nb_wr_lsb }} +: {{ nb_bits }}];
always @(posedge clk) begin
    if (adv) begin
        acc_rd_reg <= acc_mem[acc_rd_addr];
    end
end
{%- endif %}
{%- if !acc_store.is_none() %}
reg [{{ acc_all_msb }}:0] acc_sum;
always @* begin : acc_add
    integer p;
    for (p = 0; p < {{ pe }}; p = p + 1) begin
        acc_sum[p*{{ acc_bits }} +: {{ acc_bits }}] = (tree_first ? {{ acc_zero }} : {% if acc_store.is_ram() %}acc_rd_reg{% else %}acc_reg{% endif %}[p*{{ acc_bits }} +: {{ acc_bits }}]) + tree_out[p*{{ acc_bits }} +: {{ acc_bits }}];
    end
end
{%- endif %}
always @(posedge clk) begin : acc_stage
{%- if acc_store.is_none() %}
    integer p;
{%- endif %}
    if (adv) begin
        if (tree_valid) begin
{%- if acc_store.is_none() %}
            for (p = 0; p < {{ pe }}; p = p + 1) begin
                acc_reg[p*{{ acc_bits }} +: {{ acc_bits }}] <= tree_out[p*{{ acc_bits }} +: {{ acc_bits }}];
            end
{%- else if acc_store.is_reg() %}
            acc_reg <= acc_sum;
{%- else %}
            acc_mem[acc_wr_addr] <= acc_sum;
            if (tree_last) begin
                acc_reg <= acc_sum;
            end
{%- endif %}
        end
        acc_valid_reg <= tree_valid && tree_last;
    end
    if (rst) begin
        acc_valid_reg <= 1'b0;
    end
end

{%- include "lib/acc_output.v" %}

endmodule

`resetall

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
    /* input vector: {{ simd }} lanes of {{ in_bits }} bits a beat (lane 0 in the LSBs), {{ sf }} beats a frame */
    input  wire [{{ in_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output vector: {{ pe }} lanes of {{ out_bits }} bits a beat (lane 0 in the LSBs), {{ nf }} beats a frame */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// The pipeline advances as one when the output skid buffer has room (a register), so no
// combinational path runs from m_axis_out_tready to s_axis_in_tready.
wire adv;
// issue: read one input beat (first output fold) or the buffered vector (other folds)
wire issue = adv && ((nf_reg != 0) || s_axis_in_tvalid);
assign s_axis_in_tready = adv && (nf_reg == 0);

// ---- fold counters ----
reg [{{ sf_msb }}:0] sf_reg;
reg [{{ nf_msb }}:0] nf_reg;
reg [{{ w_addr_msb }}:0] w_addr_reg;
always @(posedge clk) begin
    if (issue) begin
        if (sf_reg == {{ sf_last }}) begin
            sf_reg <= 0;
            nf_reg <= (nf_reg == {{ nf_last }}) ? 0 : nf_reg + {{ nf_one }};
        end else begin
            sf_reg <= sf_reg + {{ sf_one }};
        end
        w_addr_reg <= (w_addr_reg == {{ w_addr_last }}) ? 0 : w_addr_reg + {{ w_addr_one }};
    end
    if (rst) begin
        sf_reg     <= 0;
        nf_reg     <= 0;
        w_addr_reg <= 0;
    end
end

// ---- stage 1: input vector and weights (registered ROM read{% if dp.rom_out_reg %}, then the RAM's output register{% endif %}) ----
{%- include "lib/weight_rom.v" %}
{%- if has_ibuf %}
// input vector buffer, re-read for output folds 1..{{ nf_last_int }}
reg [{{ in_msb }}:0] ibuf [0:{{ ibuf_last }}];
always @(posedge clk) begin
    if (issue && nf_reg == 0) begin
        ibuf[sf_reg] <= s_axis_in_tdata;
    end
end
{%- endif %}
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
{%- if has_ibuf %}
        x_d   <= (nf_reg == 0) ? s_axis_in_tdata : ibuf[sf_reg];
{%- else %}
        x_d   <= s_axis_in_tdata;
{%- endif %}
        x_reg <= x_d;
    end
end
{%- else %}
always @(posedge clk) begin
    if (adv) begin
{%- if has_ibuf %}
        x_reg <= (nf_reg == 0) ? s_axis_in_tdata : ibuf[sf_reg];
{%- else %}
        x_reg <= s_axis_in_tdata;
{%- endif %}
        w_reg <= w_rom[w_addr_reg];
    end
end
{%- endif %}

// control travelling with the data: valid, first and last beat of an output fold
reg [{{ ctl_msb }}:0] valid_sr;
reg [{{ ctl_msb }}:0] first_sr;
reg [{{ ctl_msb }}:0] last_sr;
always @(posedge clk) begin
    if (adv) begin
        valid_sr <= {valid_sr[{{ ctl_prev_msb }}:0], issue};
        first_sr <= {first_sr[{{ ctl_prev_msb }}:0], sf_reg == 0};
        last_sr  <= {last_sr[{{ ctl_prev_msb }}:0], sf_reg == {{ sf_last }}};
    end
    if (rst) begin
        valid_sr <= 0;
    end
end

// ---- stage 2: {% if xnor %}XNOR of bipolar inputs and weights, counted in groups{% else %}products{% endif %}, {{ dp.leaf_bits }} bits each ----
{%- include "lib/mac_product.v" %}

// ---- adder tree over the {{ dp.leaves }} leaves of each PE{% if dp.levels.len() > 0 %}, registered every {{ dp.reg_every }} levels{% endif %} ----
{%- include "lib/adder_tree.v" %}
wire tree_valid = valid_sr[{{ ctl_msb }}];
wire tree_first = first_sr[{{ ctl_msb }}];
wire tree_last = last_sr[{{ ctl_msb }}];

// ---- accumulator: {{ acc_bits }} bits a PE ----
reg [{{ acc_all_msb }}:0] acc_reg;
reg acc_valid_reg;
always @(posedge clk) begin : acc_stage
    integer p;
    if (adv) begin
        if (tree_valid) begin
            for (p = 0; p < {{ pe }}; p = p + 1) begin
                acc_reg[p*{{ acc_bits }} +: {{ acc_bits }}] <= (tree_first ? {{ acc_zero }} : acc_reg[p*{{ acc_bits }} +: {{ acc_bits }}]) + tree_out[p*{{ acc_bits }} +: {{ acc_bits }}];
            end
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

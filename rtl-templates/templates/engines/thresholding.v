{% include "lib/header.v" -%}
module {{ module }} #(
    // directory of the .mem files, ending in a slash (default: the working directory of the
    // simulator or tool; "./", not "", which Verilog reads as one NUL character)
    parameter MEM_DIR = "./"
) (
    input  wire clk,
    input  wire rst,
    /* input: {{ pe }} lanes of {{ in_bits }} bits a beat (lane 0 in the LSBs), {{ beats }} beats a frame */
    input  wire [{{ in_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: {{ pe }} lanes of {{ out_bits }} bits a beat (lane 0 in the LSBs) */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// the pipeline advances when the output skid buffer has room (a register)
wire adv;
assign s_axis_in_tready = adv;
wire in_fire = adv && s_axis_in_tvalid;

reg [{{ cf_msb }}:0] cf_reg;
always @(posedge clk) begin
    if (in_fire) begin
        cf_reg <= (cf_reg == {{ cf_last }}) ? 0 : cf_reg + {{ cf_one }};
    end
    if (rst) begin
        cf_reg <= 0;
    end
end

// input lane value at {{ cmp_bits }} bits, signed
function [{{ cmp_msb_bits }}:0] f_val;
    input [{{ in_bits_msb }}:0] v;
    begin
{%- if in_kind.is_bipolar() %}
        f_val = v[0] ? {{ cmp_bits }}'d1 : { { {{ cmp_bits }}{1'b1}} };
{%- else if in_kind.is_int() %}
        f_val = { { {{ in_ext }}{v[{{ in_bits_msb }}]}}, v };
{%- else %}
        f_val = { { {{ in_ext }}{1'b0}}, v };
{%- endif %}
    end
endfunction

// ---- {{ nt }} thresholds a channel ({{ cmp_bits }} bits each), compared (x >= t) by a binary search of {{ ts.n_bits }} registered stage(s) ----
reg [{{ ts.v_msb }}:0] ts_v0;
always @* begin : ts_value
    integer p;
    for (p = 0; p < {{ pe }}; p = p + 1) begin
        ts_v0[p*{{ cmp_bits }} +: {{ cmp_bits }}] = f_val(s_axis_in_tdata[p*{{ in_bits }} +: {{ in_bits }}]);
    end
end
wire ts_valid0 = s_axis_in_tvalid;
wire [{{ ts.addr_msb }}:0] ts_addr0 = cf_reg;
{%- include "lib/thr_search.v" %}

wire [{{ out_msb }}:0] result;
{%- include "lib/count_encode.v" %}

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ out_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(result),
    .s_axis_in_tvalid(thr_valid),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

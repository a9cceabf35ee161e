{% include "lib/header.v" -%}
module {{ module }} {% if has_thr %}#(
    // directory of the .mem files, ending in a slash (default: the working directory of the
    // simulator or tool; "./", not "", which Verilog reads as one NUL character)
    parameter MEM_DIR = "./"
) {% endif %}(
    input  wire clk,
    input  wire rst,
{%- for i in ins %}
    /* input {{ i.k }}: {{ pe }} lanes of {{ i.bits }} bits ({{ i.type_name }}, lane 0 in the LSBs), {{ beats }} beats a frame, shifted left by {{ i.shift }} */
    input  wire [{{ i.msb }}:0] s_axis_in{{ i.k }}_tdata,
    input  wire s_axis_in{{ i.k }}_tvalid,
    output wire s_axis_in{{ i.k }}_tready,
{%- endfor %}
    /* output: {{ pe }} lanes of {{ out_bits }} bits ({{ out_type }}, lane 0 in the LSBs); lane l of beat b is channel (b*{{ pe }} + l) mod {{ channels }} */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// the pipeline advances when the output skid buffer has room (a register)
wire adv;
// a beat leaves both inputs together: when both are valid and the pipeline advances
wire both = s_axis_in0_tvalid && s_axis_in1_tvalid;
assign s_axis_in0_tready = adv && s_axis_in1_tvalid;
assign s_axis_in1_tready = adv && s_axis_in0_tvalid;
{%- for i in ins %}

// a lane of input {{ i.k }} as a {{ acc_bits }}-bit two's complement term: decoded, extended, shifted
function [{{ acc_msb }}:0] f_term{{ i.k }};
    input [{{ i.bits_msb }}:0] v;
    begin
{%- if i.kind.is_bipolar() %}
        f_term{{ i.k }} = { (v[0] ? {{ i.plus_one }} : {{ i.minus_one }}){% if i.shift > 0 %}, {{ i.zeros }}{% endif %} };
{%- else if i.kind.is_int() %}
        f_term{{ i.k }} = { {% if i.ext > 0 %}{ {{ i.ext }}{v[{{ i.bits_msb }}]} }, {% endif %}v{% if i.shift > 0 %}, {{ i.zeros }}{% endif %} };
{%- else %}
        f_term{{ i.k }} = { {% if i.ext > 0 %}{ {{ i.ext }}{1'b0} }, {% endif %}v{% if i.shift > 0 %}, {{ i.zeros }}{% endif %} };
{%- endif %}
    end
endfunction
{%- endfor %}

// ---- stage 1: the sum of each lane ({{ sum_type }}), registered ----
reg [{{ sum_all_msb }}:0] sum_reg;
reg sum_valid_reg;
{%- if has_thr %}
// channel fold of the next input beat, and of the beat in sum_reg
reg [{{ cf_msb }}:0] cf_reg;
reg [{{ cf_msb }}:0] cf_sum;
{%- endif %}
always @(posedge clk) begin : sum_stage
    integer p;
    if (adv) begin
        for (p = 0; p < {{ pe }}; p = p + 1) begin
            sum_reg[p*{{ acc_bits }} +: {{ acc_bits }}] <= f_term0(s_axis_in0_tdata[p*{{ ins[0].bits }} +: {{ ins[0].bits }}]) + f_term1(s_axis_in1_tdata[p*{{ ins[1].bits }} +: {{ ins[1].bits }}]);
        end
        sum_valid_reg <= both;
{%- if has_thr %}
        cf_sum <= cf_reg;
        if (both) begin
            cf_reg <= (cf_reg == {{ cf_last }}) ? {{ cf_zero }} : cf_reg + {{ cf_one }};
        end
{%- endif %}
    end
    if (rst) begin
        sum_valid_reg <= 1'b0;
{%- if has_thr %}
        cf_reg        <= {{ cf_zero }};
{%- endif %}
    end
end
{%- if has_thr %}

// ---- stage 2: {{ nt }} thresholds a channel ({{ acc_bits }} bits each), compared (sum >= t) by a binary search of {{ ts.n_bits }} registered stage(s) ----
wire [{{ ts.v_msb }}:0] ts_v0 = sum_reg;
wire ts_valid0 = sum_valid_reg;
wire [{{ ts.addr_msb }}:0] ts_addr0 = cf_sum;
{%- include "lib/thr_search.v" %}

wire [{{ out_msb }}:0] result;
{%- include "lib/count_encode.v" %}
wire result_valid = thr_valid;
{%- else %}

// no activation: the sum goes out
wire [{{ out_msb }}:0] result = sum_reg;
wire result_valid = sum_valid_reg;
{%- endif %}

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ out_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(result),
    .s_axis_in_tvalid(result_valid),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

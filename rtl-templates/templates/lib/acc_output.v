{#- The output stage of the matrix- and vector-vector units: thresholds (lib/acc_thresholds.v),
    the XNOR dot product 2 * popcount - N, or the accumulator itself, then the skid buffer.
    Context: out_msb, has_thr, xnor, pe, out_bits, acc_bits, dot_lit, out_width, skid_module
    and those of lib/acc_thresholds.v. #}
wire [{{ out_msb }}:0] result;
wire result_valid;
{%- if has_thr %}
{%- include "lib/acc_thresholds.v" %}
{%- else if xnor %}

// ---- no activation: dot = 2 * popcount - N (the vector length) ----
genvar g;
generate
    for (g = 0; g < {{ pe }}; g = g + 1) begin : g_dot
        assign result[g*{{ out_bits }} +: {{ out_bits }}] = {acc_reg[g*{{ acc_bits }} +: {{ acc_bits }}], 1'b0} - {{ dot_lit }};
    end
endgenerate
assign result_valid = acc_valid_reg;
{%- else %}

// ---- no activation: the output is the accumulator ----
assign result = acc_reg;
assign result_valid = acc_valid_reg;
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

{#- Output encoding of a multi-threshold activation from `thr_count` (PE counts of
    `ts.n_bits`, the number of thresholds reached): output = out_bias + count, or the count
    bit itself for a bipolar output (bit 1 = +1). -#}
{%- if out_bipolar %}
// bipolar output: one threshold, bit 1 = +1
assign result = thr_count;
{%- else %}
// output = out_bias + n, n = the number of thresholds reached
genvar gq;
generate
    for (gq = 0; gq < {{ pe }}; gq = gq + 1) begin : g_encode
{%- if ts.out_ext > 0 %}
        assign result[gq*{{ out_bits }} +: {{ out_bits }}] = {{ out_bias }} + { { {{ ts.out_ext }}{1'b0}}, thr_count[gq*{{ ts.n_bits }} +: {{ ts.n_bits }}] };
{%- else %}
        assign result[gq*{{ out_bits }} +: {{ out_bits }}] = {{ out_bias }} + thr_count[gq*{{ ts.n_bits }} +: {{ ts.n_bits }}];
{%- endif %}
    end
endgenerate
{%- endif %}

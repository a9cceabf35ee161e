{#- Output encoding of a multi-threshold activation, shared by the matrix-vector and
    thresholding engines: `cmp_reg` holds the registered comparisons (PE lanes x NT ascending
    thresholds) and `result` gets each lane's output value. -#}
{%- if out_bipolar %}
// bipolar output: one threshold, bit 1 = +1
assign result = cmp_reg;
{%- else %}
// output = out_bias + n, n = number of thresholds reached. The thresholds ascend, so the
// comparisons of a channel read 1..10..0 and n is the position of the last 1: an OR of
// one-hot edges instead of a popcount.
reg [{{ out_msb }}:0] count;
reg [{{ out_bits_msb }}:0] n;
always @* begin : count_stage
    integer p;
    for (p = 0; p < {{ pe }}; p = p + 1) begin
        n = {{ out_zero }};
{%- for t in levels_n %}
{%- if t.last %}
        if (cmp_reg[p*{{ nt }} + {{ t.j }}]) n = n | {{ t.lit }};
{%- else %}
        if (cmp_reg[p*{{ nt }} + {{ t.j }}] && !cmp_reg[p*{{ nt }} + {{ t.next }}]) n = n | {{ t.lit }};
{%- endif %}
{%- endfor %}
        count[p*{{ out_bits }} +: {{ out_bits }}] = {{ out_bias }} + n;
    end
end
assign result = count;
{%- endif %}
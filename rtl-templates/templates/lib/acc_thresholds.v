{#- Thresholds after an accumulator (`acc_reg`, `acc_valid_reg`; one output beat of PE
    channels each, ROM words in output order): a pipelined binary search
    (lib/thr_search.v) and the output encoding: `result`, `result_valid`. Shared by the
    matrix-vector and vector-vector units. #}

// ---- thresholds: {{ nt }} a channel, compared at {{ cmp_bits }} bits (acc >= t) by a binary search of {{ ts.n_bits }} registered stage(s) ----
function [{{ cmp_msb_bits }}:0] f_cmp_ext;
    input [{{ acc_msb }}:0] a;
    begin
{%- if cmp_kind.is_sign() %}
        f_cmp_ext = { { {{ cmp_ext }}{a[{{ acc_msb }}]}}, a };
{%- else if cmp_kind.is_zero() %}
        f_cmp_ext = { { {{ cmp_ext }}{1'b0}}, a };
{%- else %}
        f_cmp_ext = a;
{%- endif %}
    end
endfunction

reg [{{ ts.v_msb }}:0] ts_v0;
always @* begin : ts_value
    integer p;
    for (p = 0; p < {{ pe }}; p = p + 1) begin
        ts_v0[p*{{ cmp_bits }} +: {{ cmp_bits }}] = f_cmp_ext(acc_reg[p*{{ acc_bits }} +: {{ acc_bits }}]);
    end
end
wire ts_valid0 = acc_valid_reg;
reg [{{ ts.addr_msb }}:0] ts_addr0;
always @(posedge clk) begin
    if (adv && acc_valid_reg) begin
        ts_addr0 <= (ts_addr0 == {{ thr_addr_last }}) ? 0 : ts_addr0 + {{ thr_addr_one }};
    end
    if (rst) begin
        ts_addr0 <= 0;
    end
end
{%- include "lib/thr_search.v" %}

{%- include "lib/count_encode.v" %}
assign result_valid = thr_valid;

{#- The registered leaves of the adder tree (`t0`, `dp.leaves` a PE of `dp.leaf_bits`), from
    `x_reg` and `w_reg`: XNOR bits of bipolar values counted in groups of `dp.group`
    (compressors before the first register), or one product a SIMD lane (a constant table for
    small operands: logic, never a DSP). Shared by the matrix-vector and vector-vector units. #}
{%- if dp.xnor %}
// XNOR of every lane, each PE's bits in groups of {{ dp.group }}{% if dp.xn_pad > 0 %} (the last group padded with {{ dp.xn_pad }} zero bits){% endif %}
reg [{{ dp.xn_all_msb }}:0] xn;
always @* begin : xnor_bits
    integer p;
    integer s;
    xn = {{ dp.xn_zero }};
    for (p = 0; p < {{ dp.pe }}; p = p + 1) begin
        for (s = 0; s < {{ dp.simd }}; s = s + 1) begin
            xn[p*{{ dp.xn_pe_bits }} + s] = ~(x_reg[s*{{ dp.x_s_mul }} + p*{{ dp.x_p_mul }}] ^ w_reg[p*{{ dp.simd }} + s]);
        end
    end
end

// ones in a group of {{ dp.group }} bits: a {{ dp.group }}:{{ dp.leaf_bits }} counter (compressor)
function [{{ dp.leaf_msb }}:0] f_cnt;
    input [{{ dp.group_msb }}:0] b;
{%- if dp.cnt_ext > 0 %}
    integer i;
    begin
        f_cnt = {{ dp.cnt_zero }};
        for (i = 0; i < {{ dp.group }}; i = i + 1) begin
            f_cnt = f_cnt + { { {{ dp.cnt_ext }}{1'b0}}, b[i] };
        end
    end
{%- else %}
    begin
        f_cnt = b;
    end
{%- endif %}
endfunction

reg [{{ dp.t0_msb }}:0] t0;
always @(posedge clk) begin : leaf_stage
    integer g;
    if (adv) begin
        for (g = 0; g < {{ dp.pe_leaves }}; g = g + 1) begin
            t0[g*{{ dp.leaf_bits }} +: {{ dp.leaf_bits }}] <= f_cnt(xn[g*{{ dp.group }} +: {{ dp.group }}]);
        end
    end
end
{%- else %}
{%- if dp.prod_table %}
// products from a table indexed by {x, w}: small operands take logic, never a DSP
localparam [{{ dp.prod_table_msb }}:0] PROD_TABLE = {{ dp.prod_table_lit }};
function [{{ dp.leaf_msb }}:0] f_prod;
    input [{{ dp.in_msb }}:0] xv;
    input [{{ dp.w_msb }}:0] wv;
    begin
        f_prod = PROD_TABLE[{xv, wv}*{{ dp.leaf_bits }} +: {{ dp.leaf_bits }}];
    end
endfunction
{%- else %}
// signed product of one input and one weight lane, {{ dp.leaf_bits }} bits
function [{{ dp.leaf_msb }}:0] f_prod;
    input [{{ dp.in_msb }}:0] xv;
    input [{{ dp.w_msb }}:0] wv;
    reg [{{ dp.prod_msb }}:0] xs;
    reg [{{ dp.prod_msb }}:0] ws;
    reg [{{ dp.prod_msb }}:0] pr;
{%- if dp.prod_fit.is_trunc() %}
    reg [{{ dp.prod_trunc_msb }}:0] unused_top;
{%- endif %}
    begin
{%- if dp.x_kind.is_bipolar() %}
        xs = xv[0] ? {{ dp.prod_bits }}'d1 : { { {{ dp.prod_bits }}{1'b1}} };
{%- else if dp.x_kind.is_int() %}
        xs = { { {{ dp.x_ext }}{xv[{{ dp.in_msb }}]}}, xv };
{%- else %}
        xs = { { {{ dp.x_ext }}{1'b0}}, xv };
{%- endif %}
{%- if dp.w_kind.is_bipolar() %}
        ws = wv[0] ? {{ dp.prod_bits }}'d1 : { { {{ dp.prod_bits }}{1'b1}} };
{%- else if dp.w_kind.is_int() %}
        ws = { { {{ dp.w_ext }}{wv[{{ dp.w_msb }}]}}, wv };
{%- else %}
        ws = { { {{ dp.w_ext }}{1'b0}}, wv };
{%- endif %}
        pr = xs * ws;
{%- if dp.prod_fit.is_same() %}
        f_prod = pr;
{%- else %}
        // the product fits the accumulator: its top bits only repeat the sign
        {unused_top, f_prod} = pr;
{%- endif %}
    end
endfunction
{%- endif %}

{%- if dp.prod_table %}
(* use_dsp = "no" *)
{%- endif %}
reg [{{ dp.t0_msb }}:0] t0;
always @(posedge clk) begin : prod_stage
    integer p;
    integer s;
    if (adv) begin
        for (p = 0; p < {{ dp.pe }}; p = p + 1) begin
            for (s = 0; s < {{ dp.simd }}; s = s + 1) begin
                t0[(p*{{ dp.simd }} + s)*{{ dp.leaf_bits }} +: {{ dp.leaf_bits }}] <= f_prod(x_reg[(s*{{ dp.x_s_mul }} + p*{{ dp.x_p_mul }})*{{ dp.in_bits }} +: {{ dp.in_bits }}], w_reg[(p*{{ dp.simd }} + s)*{{ dp.w_bits }} +: {{ dp.w_bits }}]);
            end
        end
    end
end
{%- endif %}

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
{%- if dp.pack > 1 %}
// products of {{ dp.pack }} PEs with their shared input lane from one multiplier (a DSP block):
// the PEs' weights packed {{ dp.prod_bits }} bits apart, each field less the borrow of the negative
// field below it, so that the multiplicand is the exact sum of weight * 2^({{ dp.prod_bits }} j)
function [{{ dp.pk_w_msb }}:0] f_wpack;
    input [{{ dp.pk_wv_msb }}:0] wv;
    integer j;
    reg borrow;
    reg [{{ dp.prod_msb }}:0] fld;
    reg [{{ dp.pk_top_msb }}:0] top;
    begin
        f_wpack = {{ dp.pk_w_zero }};
        borrow = 1'b0;
        for (j = 0; j < {{ dp.pk_low }}; j = j + 1) begin
{%- if dp.w_kind.is_int() %}
            fld = { { {{ dp.w_ext }}{wv[j*{{ dp.w_bits }} + {{ dp.w_msb }}]}}, wv[j*{{ dp.w_bits }} +: {{ dp.w_bits }}] } - { {{ dp.prod_msb }}'d0, borrow };
{%- else %}
            fld = { { {{ dp.w_ext }}{1'b0}}, wv[j*{{ dp.w_bits }} +: {{ dp.w_bits }}] } - { {{ dp.prod_msb }}'d0, borrow };
{%- endif %}
            f_wpack[j*{{ dp.prod_bits }} +: {{ dp.prod_bits }}] = fld;
            borrow = fld[{{ dp.prod_msb }}];
        end
{%- if dp.w_kind.is_int() %}
        top = { { {{ dp.pk_top_ext }}{wv[{{ dp.pk_wv_msb }}]}}, wv[{{ dp.pk_wv_msb }}:{{ dp.pk_top_w_lsb }}] } - { {{ dp.pk_top_msb }}'d0, borrow };
{%- else %}
        top = { { {{ dp.pk_top_ext }}{1'b0}}, wv[{{ dp.pk_wv_msb }}:{{ dp.pk_top_w_lsb }}] } - { {{ dp.pk_top_msb }}'d0, borrow };
{%- endif %}
        f_wpack[{{ dp.pk_top_lsb }} +: {{ dp.pk_top_bits }}] = top;
    end
endfunction

// the signed product of an input and a packed multiplicand, {{ dp.pk_r_bits }} bits
function [{{ dp.pk_r_msb }}:0] f_pkmul;
    input [{{ dp.in_msb }}:0] xv;
    input [{{ dp.pk_w_msb }}:0] wp;
    reg [{{ dp.pk_r_msb }}:0] xs;
    reg [{{ dp.pk_r_msb }}:0] ws;
    begin
{%- if dp.x_kind.is_int() %}
        xs = { { {{ dp.pk_x_ext }}{xv[{{ dp.in_msb }}]}}, xv };
{%- else %}
        xs = { { {{ dp.pk_x_ext }}{1'b0}}, xv };
{%- endif %}
        ws = { { {{ dp.pk_wp_ext }}{wp[{{ dp.pk_w_msb }}]}}, wp };
        f_pkmul = xs * ws;
    end
endfunction

// the product's {{ dp.pack }} fields: field j is the low bits of what is left, which then moves
// down a field and takes back the sign bit of the field it leaves (its borrow); each field
// is one PE's product, cut to the {{ dp.leaf_bits }}-bit leaf
function [{{ dp.pk_f_msb }}:0] f_unpack;
    input [{{ dp.pk_r_msb }}:0] r;
    integer j;
    reg [{{ dp.pk_r_msb }}:0] a;
    begin
        a = r;
        f_unpack = {{ dp.pk_f_zero }};
        for (j = 0; j < {{ dp.pack }}; j = j + 1) begin
            f_unpack[j*{{ dp.leaf_bits }} +: {{ dp.leaf_bits }}] = a[{{ dp.leaf_msb }}:0];
            a = ($signed(a) >>> {{ dp.prod_bits }}) + { {{ dp.pk_r_msb }}'d0, a[{{ dp.prod_msb }}] };
        end
    end
endfunction

// the packed products, registered straight out of the multipliers (a DSP's own output
// register), then split into the leaves
reg [{{ dp.pk_all_msb }}:0] pk_m;
always @* begin : pack_products
    integer g;
    integer s;
    integer j;
    reg [{{ dp.pk_wv_msb }}:0] wv;
    pk_m = {{ dp.pk_all_zero }};
    for (g = 0; g < {{ dp.pk_groups }}; g = g + 1) begin
        for (s = 0; s < {{ dp.simd }}; s = s + 1) begin
            for (j = 0; j < {{ dp.pack }}; j = j + 1) begin
                wv[j*{{ dp.w_bits }} +: {{ dp.w_bits }}] = w_reg[((g*{{ dp.pack }} + j)*{{ dp.simd }} + s)*{{ dp.w_bits }} +: {{ dp.w_bits }}];
            end
            pk_m[(g*{{ dp.simd }} + s)*{{ dp.pk_r_bits }} +: {{ dp.pk_r_bits }}] = f_pkmul(x_reg[s*{{ dp.x_s_mul }}*{{ dp.in_bits }} +: {{ dp.in_bits }}], f_wpack(wv));
        end
    end
end

reg [{{ dp.pk_all_msb }}:0] pk_r;
always @(posedge clk) begin
    if (adv) begin
        pk_r <= pk_m;
    end
end

reg [{{ dp.t0_msb }}:0] t0;
always @* begin : unpack_products
    integer g;
    integer s;
    integer j;
    reg [{{ dp.pk_f_msb }}:0] pf;
    t0 = {{ dp.pk_zero }};
    for (g = 0; g < {{ dp.pk_groups }}; g = g + 1) begin
        for (s = 0; s < {{ dp.simd }}; s = s + 1) begin
            pf = f_unpack(pk_r[(g*{{ dp.simd }} + s)*{{ dp.pk_r_bits }} +: {{ dp.pk_r_bits }}]);
            for (j = 0; j < {{ dp.pack }}; j = j + 1) begin
                t0[((g*{{ dp.pack }} + j)*{{ dp.simd }} + s)*{{ dp.leaf_bits }} +: {{ dp.leaf_bits }}] = pf[j*{{ dp.leaf_bits }} +: {{ dp.leaf_bits }}];
            end
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
{%- if !dp.x_kind.is_bipolar() %}
    reg [{{ dp.prod_msb }}:0] xs;
{%- endif %}
{%- if !dp.w_kind.is_bipolar() %}
    reg [{{ dp.prod_msb }}:0] ws;
{%- endif %}
    reg [{{ dp.prod_msb }}:0] pr;
{%- if dp.prod_fit.is_trunc() %}
    reg [{{ dp.prod_trunc_msb }}:0] unused_top;
{%- endif %}
    begin
{%- if dp.x_kind.is_int() %}
        xs = { { {{ dp.x_ext }}{xv[{{ dp.in_msb }}]}}, xv };
{%- else if !dp.x_kind.is_bipolar() %}
        xs = { { {{ dp.x_ext }}{1'b0}}, xv };
{%- endif %}
{%- if dp.w_kind.is_int() %}
        ws = { { {{ dp.w_ext }}{wv[{{ dp.w_msb }}]}}, wv };
{%- else if !dp.w_kind.is_bipolar() %}
        ws = { { {{ dp.w_ext }}{1'b0}}, wv };
{%- endif %}
{%- if dp.w_kind.is_bipolar() %}
        // a bipolar weight (bit 1 = +1) negates the input: no multiplier
        pr = wv[0] ? xs : -xs;
{%- else if dp.x_kind.is_bipolar() %}
        // a bipolar input (bit 1 = +1) negates the weight: no multiplier
        pr = xv[0] ? ws : -ws;
{%- else %}
        pr = xs * ws;
{%- endif %}
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
{%- endif %}

{#- The product of one input and one weight lane, `tree_bits` wide: XNOR of bipolar values, or
    a signed product fitted to the adder tree; shared by the matrix-vector and vector-vector
    units. #}
function [{{ tree_msb }}:0] f_prod;
    input [{{ in_bits_msb }}:0] xv;
    input [{{ w_bits_msb }}:0] wv;
{%- if xnor %}
    begin
{%- if leaf_ext > 0 %}
        f_prod = { { {{ leaf_ext }}{1'b0}}, ~(xv ^ wv) };
{%- else %}
        f_prod = ~(xv ^ wv);
{%- endif %}
    end
{%- else %}
    reg [{{ prod_msb }}:0] xs;
    reg [{{ prod_msb }}:0] ws;
    reg [{{ prod_msb }}:0] pr;
{%- if prod_fit.is_trunc() %}
    reg [{{ prod_trunc_msb }}:0] unused_top;
{%- endif %}
    begin
{%- if x_kind.is_bipolar() %}
        xs = xv[0] ? {{ prod_bits }}'d1 : { { {{ prod_bits }}{1'b1}} };
{%- else if x_kind.is_int() %}
        xs = { { {{ x_ext }}{xv[{{ in_bits_msb }}]}}, xv };
{%- else %}
        xs = { { {{ x_ext }}{1'b0}}, xv };
{%- endif %}
{%- if w_kind.is_bipolar() %}
        ws = wv[0] ? {{ prod_bits }}'d1 : { { {{ prod_bits }}{1'b1}} };
{%- else if w_kind.is_int() %}
        ws = { { {{ w_ext }}{wv[{{ w_bits_msb }}]}}, wv };
{%- else %}
        ws = { { {{ w_ext }}{1'b0}}, wv };
{%- endif %}
        pr = xs * ws;
{%- if prod_fit.is_extend() %}
        f_prod = { { {{ prod_fit_bits }}{pr[{{ prod_msb }}]}}, pr };
{%- else if prod_fit.is_same() %}
        f_prod = pr;
{%- else %}
        // the product fits the accumulator: its top bits only repeat the sign
        {unused_top, f_prod} = pr;
{%- endif %}
    end
{%- endif %}
endfunction
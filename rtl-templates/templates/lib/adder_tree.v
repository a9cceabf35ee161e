{#- Adder tree over the `dp.leaves` leaves of each of `pe` lanes, from `t0` (level 0) up,
    each level one bit wider than the one before while its sums can grow (capped at the
    accumulator's width), registered where a level says so (advancing on `adv`); then
    `tree_out`, each PE's sum extended to the accumulator's width. Shared by the
    matrix-vector and vector-vector units. -#}
{%- for l in dp.levels %}
{%- if l.widen %}
function [{{ l.bits_msb }}:0] f_widen{{ l.k }};
    input [{{ l.prev_msb }}:0] v;
    begin
{%- if dp.signed %}
        f_widen{{ l.k }} = {v[{{ l.prev_msb }}], v};
{%- else %}
        f_widen{{ l.k }} = {1'b0, v};
{%- endif %}
    end
endfunction
{%- endif %}
reg [{{ l.msb }}:0] t{{ l.k }};
{%- if l.registered %}
always @(posedge clk) begin : tree_{{ l.k }}
    integer p;
    integer i;
    if (adv) begin
{%- else %}
always @* begin : tree_{{ l.k }}
    integer p;
    integer i;
    begin
{%- endif %}
        for (p = 0; p < {{ dp.pe }}; p = p + 1) begin
            for (i = 0; i < {{ l.pairs }}; i = i + 1) begin
{%- if l.widen %}
                t{{ l.k }}[(p*{{ l.n }} + i)*{{ l.bits }} +: {{ l.bits }}] {% if l.registered %}<={% else %}={% endif %} f_widen{{ l.k }}(t{{ l.prev }}[(p*{{ l.prev_n }} + 2*i)*{{ l.prev_bits }} +: {{ l.prev_bits }}]) + f_widen{{ l.k }}(t{{ l.prev }}[(p*{{ l.prev_n }} + 2*i + 1)*{{ l.prev_bits }} +: {{ l.prev_bits }}]);
{%- else %}
                t{{ l.k }}[(p*{{ l.n }} + i)*{{ l.bits }} +: {{ l.bits }}] {% if l.registered %}<={% else %}={% endif %} t{{ l.prev }}[(p*{{ l.prev_n }} + 2*i)*{{ l.prev_bits }} +: {{ l.prev_bits }}] + t{{ l.prev }}[(p*{{ l.prev_n }} + 2*i + 1)*{{ l.prev_bits }} +: {{ l.prev_bits }}];
{%- endif %}
            end
{%- if l.odd %}
{%- if l.widen %}
            t{{ l.k }}[(p*{{ l.n }} + {{ l.pairs }})*{{ l.bits }} +: {{ l.bits }}] {% if l.registered %}<={% else %}={% endif %} f_widen{{ l.k }}(t{{ l.prev }}[(p*{{ l.prev_n }} + {{ l.prev_last }})*{{ l.prev_bits }} +: {{ l.prev_bits }}]);
{%- else %}
            t{{ l.k }}[(p*{{ l.n }} + {{ l.pairs }})*{{ l.bits }} +: {{ l.bits }}] {% if l.registered %}<={% else %}={% endif %} t{{ l.prev }}[(p*{{ l.prev_n }} + {{ l.prev_last }})*{{ l.prev_bits }} +: {{ l.prev_bits }}];
{%- endif %}
{%- endif %}
        end
    end
end
{%- endfor %}

// each PE's sum ({{ dp.top_bits }} bits) at the accumulator's {{ dp.acc_bits }} bits
wire [{{ dp.acc_all_msb }}:0] tree_out;
genvar gt;
generate
    for (gt = 0; gt < {{ dp.pe }}; gt = gt + 1) begin : g_tree_out
{%- if dp.acc_ext == 0 %}
        assign tree_out[gt*{{ dp.acc_bits }} +: {{ dp.acc_bits }}] = t{{ dp.tree_top }}[gt*{{ dp.top_bits }} +: {{ dp.top_bits }}];
{%- else if dp.signed %}
        assign tree_out[gt*{{ dp.acc_bits }} +: {{ dp.acc_bits }}] = { { {{ dp.acc_ext }}{t{{ dp.tree_top }}[gt*{{ dp.top_bits }} + {{ dp.top_msb }}]}}, t{{ dp.tree_top }}[gt*{{ dp.top_bits }} +: {{ dp.top_bits }}] };
{%- else %}
        assign tree_out[gt*{{ dp.acc_bits }} +: {{ dp.acc_bits }}] = { { {{ dp.acc_ext }}{1'b0}}, t{{ dp.tree_top }}[gt*{{ dp.top_bits }} +: {{ dp.top_bits }}] };
{%- endif %}
    end
endgenerate

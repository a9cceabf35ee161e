{#- Adder tree over the `simd` lanes of each of `pe` lanes, from `t0` (level 0) up, registered
    where a level says so (advancing on `adv`); shared by the matrix-vector and vector-vector
    units. -#}
{%- for l in levels %}
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
        for (p = 0; p < {{ pe }}; p = p + 1) begin
            for (i = 0; i < {{ l.pairs }}; i = i + 1) begin
                t{{ l.k }}[(p*{{ l.n }} + i)*{{ tree_bits }} +: {{ tree_bits }}] {% if l.registered %}<={% else %}={% endif %} t{{ l.prev }}[(p*{{ l.prev_n }} + 2*i)*{{ tree_bits }} +: {{ tree_bits }}] + t{{ l.prev }}[(p*{{ l.prev_n }} + 2*i + 1)*{{ tree_bits }} +: {{ tree_bits }}];
            end
{%- if l.odd %}
            t{{ l.k }}[(p*{{ l.n }} + {{ l.pairs }})*{{ tree_bits }} +: {{ tree_bits }}] {% if l.registered %}<={% else %}={% endif %} t{{ l.prev }}[(p*{{ l.prev_n }} + {{ l.prev_last }})*{{ tree_bits }} +: {{ tree_bits }}];
{%- endif %}
        end
    end
end
{%- endfor %}
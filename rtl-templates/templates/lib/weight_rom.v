{#- The weight ROM of the matrix- and vector-vector units: the family's block-RAM ROM module
    (`w_rom_prim`: read and output registers inside the block, `w_reg` its output) or an
    inferred memory read from `w_file` (`w_reg` declared here, registered by the unit);
    declares `x_reg` too. -#}
{%- if w_rom_prim %}
// the weights in the family's block RAM ({{ w_rom_module }}), read register and output
// register inside the block, both clocked with the pipeline
wire [{{ w_msb }}:0] w_reg;
{{ w_rom_module }} u_w_rom (
    .clk(clk),
    .ce(adv),
    .addr(w_addr_reg),
    .q(w_reg)
);
reg [{{ in_msb }}:0] x_reg;
{%- else %}
{%- if w_rom_block %}
(* rom_style = "block" *)
{%- else %}
(* rom_style = "logic" *)
{%- endif %}
reg [{{ w_msb }}:0] w_rom [0:{{ w_rom_last }}];
initial begin
    $readmemh({MEM_DIR, "{{ w_file }}"}, w_rom);
end
reg [{{ in_msb }}:0] x_reg;
reg [{{ w_msb }}:0] w_reg;
{%- endif %}

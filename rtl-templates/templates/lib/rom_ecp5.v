{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire ce,
    input  wire [{{ addr_msb }}:0] addr,
    output wire [{{ q_msb }}:0] q
);

// Lattice ECP5 DP16KD blocks in 1K x 18 mode, both output registers on (REGMODE "OUTREG"):
// q is the word at addr two clocks with ce high later (the read register, then the output
// register inside the block). Port A reads row addr; port B, where used, reads row
// 512 + addr of the same block, so a block holds two 18-bit columns of a ROM of at most
// 512 words. Simulators take the model in sim/DP16KD.v; synthesis takes the vendor's cell.
wire [9:0] row_a = {{ row_a }};
{%- if dual %}
wire [9:0] row_b = {{ row_b }};
{%- endif %}
wire [{{ all_msb }}:0] q_all;
assign q = q_all[{{ q_msb }}:0];
{%- if has_pad %}
wire unused_pad = ^q_all[{{ all_msb }}:{{ width }}];
{%- endif %}
{% for b in blocks %}
wire [17:0] {{ b.name }}_doa;
wire [17:0] {{ b.name }}_dob;
assign q_all[{{ b.a_msb }}:{{ b.a_lsb }}] = {{ b.name }}_doa;
{%- if let Some((lsb, msb)) = b.b %}
assign q_all[{{ msb }}:{{ lsb }}] = {{ b.name }}_dob;
{%- else %}
wire unused_{{ b.name }}_dob = ^{{ b.name }}_dob;
{%- endif %}
DP16KD #(
    .DATA_WIDTH_A(18),
    .DATA_WIDTH_B(18),
    .REGMODE_A("OUTREG"),
    .REGMODE_B("OUTREG"),
    .RESETMODE("SYNC"),
    .GSR("DISABLED")
{%- for iv in b.initvals %},
    .INITVAL_{{ iv.0 }}(320'h{{ iv.1 }})
{%- endfor %}
) {{ b.name }} (
    .CLKA(clk),
    .CEA(ce),
    .OCEA(ce),
    .WEA(1'b0),
    .RSTA(1'b0),
    .CSA0(1'b0),
    .CSA1(1'b0),
    .CSA2(1'b0),
    .ADA0(1'b0),
    .ADA1(1'b0),
    .ADA2(1'b0),
    .ADA3(1'b0),
{%- for (pin, bit) in row_pins %}
    .ADA{{ pin }}(row_a[{{ bit }}]),
{%- endfor %}
{%- for i in 0..18 %}
    .DIA{{ i }}(1'b0),
{%- endfor %}
{%- for i in 0..18 %}
    .DOA{{ i }}({{ b.name }}_doa[{{ i }}]),
{%- endfor %}
    .CLKB(clk),
{%- if b.b.is_some() %}
    .CEB(ce),
    .OCEB(ce),
{%- else %}
    .CEB(1'b0),
    .OCEB(1'b0),
{%- endif %}
    .WEB(1'b0),
    .RSTB(1'b0),
    .CSB0(1'b0),
    .CSB1(1'b0),
    .CSB2(1'b0),
    .ADB0(1'b0),
    .ADB1(1'b0),
    .ADB2(1'b0),
    .ADB3(1'b0),
{%- for (pin, bit) in row_pins %}
{%- if b.b.is_some() %}
    .ADB{{ pin }}(row_b[{{ bit }}]),
{%- else %}
    .ADB{{ pin }}(1'b0),
{%- endif %}
{%- endfor %}
{%- for i in 0..18 %}
    .DIB{{ i }}(1'b0),
{%- endfor %}
{%- for i in 0..18 %}
    .DOB{{ i }}({{ b.name }}_dob[{{ i }}]){% if !loop.last %},{% endif %}
{%- endfor %}
);
{% endfor %}
endmodule

`resetall

{% include "lib/header.v" -%}
module {{ module }} #(
    // directory of the .mem files, ending in a slash (default: the working directory of the
    // simulator or tool; "./", not "", which Verilog reads as one NUL character)
    parameter MEM_DIR = "./"
) (
    input  wire ap_clk,
    // active-low reset, registered into the engines' synchronous active-high rst
    input  wire ap_rst_n,
    /* input frames: {{ in_lanes }} lanes of {{ in_elem_bits }} bits a beat (lane 0 in the LSBs), {{ in_beats }} beats a frame */
    input  wire [{{ in_port_msb }}:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    /* output frames: {{ out_lanes }} lanes of {{ out_elem_bits }} bits a beat (lane 0 in the LSBs), {{ out_beats }} beats a frame */
    output wire [{{ out_port_msb }}:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
{%- for t in taps %},
    /* trace: output stream of {{ t.label }} */
    output wire [{{ t.msb }}:0] tap{{ t.nn }}_tdata,
    output wire tap{{ t.nn }}_fire
{%- endfor %}
);

{%- if !uses_mem %}
// no engine of this network reads a .mem file
localparam unused_mem_dir = MEM_DIR;
{%- endif %}

wire clk = ap_clk;
reg rst_meta_reg;
reg rst;
always @(posedge clk) begin
    rst_meta_reg <= !ap_rst_n;
    rst          <= rst_meta_reg;
end
{% for s in streams %}
/* {{ s.comment }} */
wire [{{ s.msb }}:0] {{ s.name }}_tdata;
wire {{ s.name }}_tvalid;
wire {{ s.name }}_tready;
{%- endfor %}

// No beat crosses the edges while the engines are in reset (rst lags ap_rst_n by two
// cycles): a beat accepted then would be lost.
assign {{ first_stream }}_tdata = s_axis_tdata[{{ in_msb }}:0];
assign {{ first_stream }}_tvalid = s_axis_tvalid && !rst;
assign s_axis_tready = {{ first_stream }}_tready && !rst;
{%- if in_pad %}
wire unused_pad = &{1'b0, s_axis_tdata[{{ in_port_msb }}:{{ in_pad_lsb }}], 1'b0};
{%- endif %}
{%- if out_pad %}
assign m_axis_tdata = { { {{ out_pad_bits }}{1'b0}}, {{ last_stream }}_tdata };
{%- else %}
assign m_axis_tdata = {{ last_stream }}_tdata;
{%- endif %}
assign m_axis_tvalid = {{ last_stream }}_tvalid && !rst;
assign {{ last_stream }}_tready = m_axis_tready;
{%- for t in taps %}
assign tap{{ t.nn }}_tdata = {{ t.stream }}_tdata;
assign tap{{ t.nn }}_fire = {{ t.stream }}_tvalid && {{ t.stream }}_tready;
{%- endfor %}
{% for i in instances %}
/* {{ i.comment }} */
{{ i.module }}
{%- if !i.params.is_empty() %} #(
{%- for p in i.params %}
    .{{ p.name }}({{ p.value }}){% if !loop.last %},{% endif %}
{%- endfor %}
){% endif %} {{ i.name }} (
    .clk(clk),
    .rst(rst)
{%- for c in i.conns %},
    .{{ c.port }}_tdata({{ c.stream }}_tdata),
    .{{ c.port }}_tvalid({{ c.stream }}_tvalid),
    .{{ c.port }}_tready({{ c.stream }}_tready)
{%- endfor %}
);
{% endfor %}
endmodule

`resetall

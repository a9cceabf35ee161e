{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
    /* input: {{ pe }} lanes of {{ bits }} bits a beat (lane 0 in the LSBs), {{ beats }} beats a frame */
    input  wire [{{ msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
{%- for o in outs %}
    /* output {{ o.k }}: a copy of the input stream, with its own backpressure */
    output wire [{{ msb }}:0] m_axis_out{{ o.k }}_tdata,
    output wire m_axis_out{{ o.k }}_tvalid,
    input  wire m_axis_out{{ o.k }}_tready{% if !o.last %},{% endif %}
{%- endfor %}
);

// per output: its skid buffer has room (a register of the skid buffer)
wire [{{ n_msb }}:0] room;
// per output: it has already taken the current input beat and waits for the others
reg [{{ n_msb }}:0] sent_reg;
// the current beat is offered to the outputs that have not taken it yet
wire [{{ n_msb }}:0] offer = { {{ n }}{s_axis_in_tvalid} } & ~sent_reg;
// an output is done with the current beat when it took it before or takes it now; the beat
// leaves the input when every output is done (tready depends on registers only)
wire [{{ n_msb }}:0] done = sent_reg | room;
assign s_axis_in_tready = &done;
wire in_fire = s_axis_in_tvalid && (&done);

always @(posedge clk) begin
    if (in_fire) begin
        sent_reg <= {{ n_zero }};
    end else begin
        sent_reg <= sent_reg | (offer & room);
    end
    if (rst) begin
        sent_reg <= {{ n_zero }};
    end
end
{% for o in outs %}
// ---- output {{ o.k }}: skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ width }})
) u_out{{ o.k }} (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(s_axis_in_tdata),
    .s_axis_in_tvalid(offer[{{ o.k }}]),
    .s_axis_in_tready(room[{{ o.k }}]),
    .m_axis_out_tdata(m_axis_out{{ o.k }}_tdata),
    .m_axis_out_tvalid(m_axis_out{{ o.k }}_tvalid),
    .m_axis_out_tready(m_axis_out{{ o.k }}_tready)
);
{% endfor %}
endmodule

`resetall

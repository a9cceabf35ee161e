{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
{%- for i in ins %}
    /* input {{ i.k }}: {{ i.lanes }} lanes of {{ i.bits }} bits ({{ i.type_name }}, lane 0 in the LSBs), {{ i.channels }} channels a pixel, {{ pixels }} pixels a frame */
    input  wire [{{ i.msb }}:0] s_axis_in{{ i.k }}_tdata,
    input  wire s_axis_in{{ i.k }}_tvalid,
    output wire s_axis_in{{ i.k }}_tready,
{%- endfor %}
    /* output: {{ pe }} lanes of {{ out_bits }} bits ({{ out_type }}, lane 0 in the LSBs), {{ out_channels }} channels a pixel: input 0's, then input 1's, ... */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// the output skid buffer has room (a register)
wire room;
{%- if whole %}
// whole pixels: one beat of every input together, concatenated into one output beat
{%- for i in ins %}
assign s_axis_in{{ i.k }}_tready = room && {{ i.others_valid }};
{%- endfor %}
{%- else %}
// the input being copied, and the beat of its block of the current pixel
reg [{{ sel_msb }}:0] sel_reg;
reg [{{ beat_msb }}:0] beat_reg;
{%- for i in ins %}
// input {{ i.k }} is ready only while it is the one copied
assign s_axis_in{{ i.k }}_tready = room && (sel_reg == {{ i.sel }});
{%- endfor %}
{%- endif %}
{%- for i in ins %}

// a lane of input {{ i.k }} ({{ i.type_name }}) as an output lane ({{ out_type }})
function [{{ out_bits_msb }}:0] f_lane{{ i.k }};
    input [{{ i.bits_msb }}:0] v;
    begin
{%- if i.copy %}
        f_lane{{ i.k }} = v;
{%- else if i.kind.is_bipolar() %}
        f_lane{{ i.k }} = v[0] ? {{ i.plus_one }} : {{ i.minus_one }};
{%- else if i.kind.is_int() %}
        f_lane{{ i.k }} = { { {{ i.ext }}{v[{{ i.bits_msb }}]} }, v };
{%- else %}
        f_lane{{ i.k }} = { { {{ i.ext }}{1'b0} }, v };
{%- endif %}
    end
endfunction
{%- endfor %}

{%- if whole %}

// every input's lanes widened, input 0's in the lowest lanes
reg [{{ out_msb }}:0] data;
wire data_valid = {{ all_valid }};
always @* begin : widen
    integer p;
    data = {{ out_zero }};
{%- for i in ins %}
    for (p = 0; p < {{ i.lanes }}; p = p + 1) begin
        data[({{ i.offset }} + p)*{{ out_bits }} +: {{ out_bits }}] = f_lane{{ i.k }}(s_axis_in{{ i.k }}_tdata[p*{{ i.bits }} +: {{ i.bits }}]);
    end
{%- endfor %}
end
{%- else %}

// the selected input's beat, widened lane by lane; the last beat of its block
reg [{{ out_msb }}:0] data;
reg data_valid;
reg [{{ beat_msb }}:0] beat_last;
always @* begin : select
    integer p;
    p = 0;
    data = {{ out_zero }};
    data_valid = 1'b0;
    beat_last = {{ beat_zero }};
    case (sel_reg)
{%- for i in ins %}
    {{ i.sel }}: begin
        for (p = 0; p < {{ pe }}; p = p + 1) begin
            data[p*{{ out_bits }} +: {{ out_bits }}] = f_lane{{ i.k }}(s_axis_in{{ i.k }}_tdata[p*{{ i.bits }} +: {{ i.bits }}]);
        end
        data_valid = s_axis_in{{ i.k }}_tvalid;
        beat_last = {{ i.beat_last }};
    end
{%- endfor %}
    default: begin
        data_valid = 1'b0;
    end
    endcase
end

// a beat moves into the skid buffer: the next beat of the block, or the next input's block
wire fire = data_valid && room;
always @(posedge clk) begin
    if (fire) begin
        if (beat_reg == beat_last) begin
            beat_reg <= {{ beat_zero }};
            sel_reg  <= (sel_reg == {{ sel_last }}) ? {{ sel_zero }} : sel_reg + {{ sel_one }};
        end else begin
            beat_reg <= beat_reg + {{ beat_one }};
        end
    end
    if (rst) begin
        sel_reg  <= {{ sel_zero }};
        beat_reg <= {{ beat_zero }};
    end
end
{%- endif %}

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ out_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(data),
    .s_axis_in_tvalid(data_valid),
    .s_axis_in_tready(room),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

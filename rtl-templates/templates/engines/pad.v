{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
    /* input: beats of {{ simd }} x {{ bits }}-bit lanes (lane 0 in the LSBs); a frame: {{ in_h }} rows x {{ in_w }} columns x {{ channels }} channels, channels last */
    input  wire [{{ msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: the frame padded to {{ out_h }} rows x {{ out_w }} columns ({{ pads }}) with the value {{ pad_value }}, same beat layout */
    output wire [{{ msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// the output skid buffer has room (a register)
wire adv;

// channel fold, column and row of the next output beat
reg [{{ cf_msb }}:0] cf_reg;
reg [{{ w_msb }}:0] w_reg;
reg [{{ h_msb }}:0] h_reg;
// that beat's row and column are rows and columns of the input frame
reg row_in_reg;
reg col_in_reg;
wire in_frame = row_in_reg && col_in_reg;

// the next output beat is the first of a frame
reg first_reg;

// in the frame, the input beat passes; outside, a pad beat goes out without input. A frame
// starts only once its input has begun (a valid input beat is offered), so no pad beat of
// a frame leaves before the frame's input exists.
assign s_axis_in_tready = in_frame && adv;
wire [{{ msb }}:0] beat = in_frame ? s_axis_in_tdata : {{ pad_beat }};
wire beat_valid = (!in_frame && !first_reg) || s_axis_in_tvalid;
wire step = beat_valid && adv;

wire cf_wrap = (cf_reg == {{ cf_last }});
wire w_wrap = (w_reg == {{ w_last }});
wire h_wrap = (h_reg == {{ h_last }});

always @(posedge clk) begin
    if (step) begin
        first_reg <= cf_wrap && w_wrap && h_wrap;
        cf_reg <= cf_wrap ? {{ cf_zero }} : cf_reg + {{ cf_one }};
        if (cf_wrap) begin
            w_reg <= w_wrap ? {{ w_zero }} : w_reg + {{ w_one }};
            if (w_wrap) begin
                col_in_reg <= {{ col_in_first }};
{%- if has_left %}
            end else if (w_reg == {{ col_before }}) begin
                col_in_reg <= 1'b1;
{%- endif %}
{%- if has_right %}
            end else if (w_reg == {{ col_last_in }}) begin
                col_in_reg <= 1'b0;
{%- endif %}
            end
            if (w_wrap) begin
                h_reg <= h_wrap ? {{ h_zero }} : h_reg + {{ h_one }};
                if (h_wrap) begin
                    row_in_reg <= {{ row_in_first }};
{%- if has_top %}
                end else if (h_reg == {{ row_before }}) begin
                    row_in_reg <= 1'b1;
{%- endif %}
{%- if has_bottom %}
                end else if (h_reg == {{ row_last_in }}) begin
                    row_in_reg <= 1'b0;
{%- endif %}
                end
            end
        end
    end
    if (rst) begin
        first_reg  <= 1'b1;
        cf_reg     <= {{ cf_zero }};
        w_reg      <= {{ w_zero }};
        h_reg      <= {{ h_zero }};
        row_in_reg <= {{ row_in_first }};
        col_in_reg <= {{ col_in_first }};
    end
end

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(beat),
    .s_axis_in_tvalid(beat_valid),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

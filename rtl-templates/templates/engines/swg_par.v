{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
    /* input: one pixel a beat ({{ channels }} lanes of {{ elem_bits }} bits, lane 0 in the LSBs), {{ in_beats }} beats a frame: a {{ ifm_h }}x{{ ifm_w }}x{{ channels }} feature map, channels last */
    input  wire [{{ pix_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: one window a beat ({{ k_h }}x{{ k_w }}x{{ channels }} lanes in (kernel row, kernel column, channel) order), {{ out_beats }} beats a frame: the windows of the {{ ofm_h }}x{{ ofm_w }} output pixels{{ pads }} */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// Parallel window generator. The line buffer sr_reg holds the last {{ line_pixels }} pixels shifted
// in (the newest in the low bits); at most one pixel is shifted in a cycle. Positions are
// indices of the input frame's raster (y * {{ ifm_w }} + x), continuing past its end. The window of
// an output pixel leaves when the pixel at its bottom-right position is shifted in
// (idx == v): its elements are then at fixed distances behind the new pixel, and elements in
// the padding are replaced by the pad value. The windows of the last output row reach up to
// {{ trailing }} positions past the frame's end: those trailing shifts are the next frame's first
// pixels (lag_reg: the windows belong to the frame before the input's), or pad pixels
// shifted in without input while the next frame has not begun.

wire adv;                               // the output skid buffer has room (a register)

reg [{{ sr_msb }}:0] sr_reg;            // line buffer
reg [{{ n_msb }}:0] idx_reg;            // position of the next shift, in the windows' frame
reg [{{ n_msb }}:0] in_reg;             // position of the next input pixel, in its frame
reg [{{ n_msb }}:0] v_reg;              // bottom-right position of the next window
reg lag_reg;                            // the windows' frame is the one before the input's
reg [{{ ow_msb }}:0] ow_reg;            // output column of the next window
reg [{{ oh_msb }}:0] oh_reg;            // output row of the next window
reg [{{ out_msb }}:0] out_data_reg;
reg out_valid_reg;

wire emit = (idx_reg == v_reg);
// a pad pixel may be shifted in only for trailing windows, before the next frame begins
wire bubble_ok = lag_reg && (in_reg == {{ n_zero }});
assign s_axis_in_tready = !emit || adv;
wire shift = (!emit || adv) && (s_axis_in_tvalid || bubble_ok);
wire take = shift && s_axis_in_tvalid;
wire [{{ pix_msb }}:0] new_pix = s_axis_in_tvalid ? s_axis_in_tdata : {{ pad_pix }};

wire ow_last = (ow_reg == {{ ow_last }});
wire oh_last = (oh_reg == {{ oh_last }});
wire win_last = ow_last && oh_last;
wire in_last = (in_reg == {{ hw_last }});
wire [{{ n_msb }}:0] in_next = in_last ? {{ n_zero }} : in_reg + {{ n_one }};
wire [{{ n_msb }}:0] v_next = win_last ? {{ v_first }} : (ow_last ? v_reg + {{ v_row }} : v_reg + {{ v_px }});
wire [{{ n_msb }}:0] v_after = emit ? v_next : v_reg;

// the kernel rows and columns of the next window that lie inside the input
{%- for c in rows_ok %}
wire row_ok_{{ loop.index0 }} = {{ c }};
{%- endfor %}
{%- for c in cols_ok %}
wire col_ok_{{ loop.index0 }} = {{ c }};
{%- endfor %}

// the window after this cycle's shift
wire [{{ out_msb }}:0] window;
{%- for e in elems %}
assign window[{{ e.msb }}:{{ e.lsb }}] = (row_ok_{{ e.ky }} && col_ok_{{ e.kx }}) ? {{ e.src }} : {{ pad_pix }};
{%- endfor %}

always @(posedge clk) begin
    if (shift) begin
        sr_reg <= {{ sr_shift }};
        if (emit) begin
            v_reg  <= v_next;
            ow_reg <= ow_last ? {{ ow_zero }} : ow_reg + {{ ow_one }};
            if (ow_last) begin
                oh_reg <= oh_last ? {{ oh_zero }} : oh_reg + {{ oh_one }};
            end
        end
        if (take) begin
            in_reg <= in_next;
        end
        if (lag_reg) begin
            if (emit && win_last) begin
                // the trailing windows are done: the windows follow the input's frame
                lag_reg <= 1'b0;
                idx_reg <= take ? in_next : in_reg;
            end else begin
                idx_reg <= idx_reg + {{ n_one }};
            end
        end else if (in_last) begin
            // the frame's last pixel: its remaining windows, if any, trail
            lag_reg <= (v_after >= {{ hw }});
            idx_reg <= (v_after >= {{ hw }}) ? {{ hw }} : {{ n_zero }};
        end else begin
            idx_reg <= idx_reg + {{ n_one }};
        end
    end
    if (rst) begin
        idx_reg <= {{ n_zero }};
        in_reg  <= {{ n_zero }};
        v_reg   <= {{ v_first }};
        lag_reg <= 1'b0;
        ow_reg  <= {{ ow_zero }};
        oh_reg  <= {{ oh_zero }};
    end
end

// the window leaves through a register, held while the skid buffer is full
always @(posedge clk) begin
    if (adv) begin
        out_data_reg  <= window;
        out_valid_reg <= shift && emit;
    end
    if (rst) begin
        out_valid_reg <= 1'b0;
    end
end

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ out_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(out_data_reg),
    .s_axis_in_tvalid(out_valid_reg),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

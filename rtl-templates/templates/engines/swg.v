{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
    /* input: {{ simd }} lanes of {{ elem_bits }} bits a beat (lane 0 in the LSBs), {{ in_beats }} beats a frame: a {{ ifm_h }}x{{ ifm_w }}x{{ channels }} feature map, channels last */
    input  wire [{{ data_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: {{ simd }} lanes a beat, {{ out_beats }} beats a frame: for each of the {{ ofm_h }}x{{ ofm_w }} output pixels, its {{ k_h }}x{{ k_w }} window (kernel row, kernel column, channel){{ pads }} */
    output wire [{{ data_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// The window buffer is a circular buffer of {{ depth }} beats: input beat g (counted over all
// frames, padding included) lives at address g mod {{ depth }}. The reader emits one window at a time; tl is the
// buffer address of the window's top-left beat. fill = (beats written) - (index of tl) may
// go below 0 when tl jumps to the next frame; fill_reg holds it plus {{ fill_bias }}. Without the bias:
//   - a window may start when fill >= {{ window_span }} (its last beat is written);
//   - a beat may be written when fill < {{ depth }} (the beat it overwrites is older than tl).

wire adv;                       // the output skid buffer has room (a register)

// ---- window buffer: one write port, one registered read port ----
reg [{{ data_msb }}:0] buf_mem [0:{{ depth_last }}];
reg [{{ addr_msb }}:0] wr_addr_reg;
reg [{{ addr_msb }}:0] rd_addr_reg;
reg [{{ data_msb }}:0] rd_data_reg;
reg rd_valid_reg;

// ---- occupancy ----
reg [{{ fill_msb }}:0] fill_reg;
reg [{{ fill_msb }}:0] fill_next;
wire room = (fill_reg < {{ fill_full }});
{%- if padded %}

// ---- writer: walks the padded raster ({{ wr.out_h }} rows x {{ wr.out_w }} columns). Inside the
// input it writes the input beat; in the padding a pad beat, without input. A frame's pad
// beats wait until its first input beat is offered, so no window of a frame that never
// comes leaves.
reg [{{ wr.cf_msb }}:0] wcf_reg;
reg [{{ wr.w_msb }}:0] wx_reg;
reg [{{ wr.h_msb }}:0] wy_reg;
reg row_in_reg;
reg col_in_reg;
reg first_reg;
wire in_frame = row_in_reg && col_in_reg;
assign s_axis_in_tready = room && in_frame;
wire wr_fire = room && ((!in_frame && !first_reg) || s_axis_in_tvalid);
wire [{{ data_msb }}:0] wr_data = in_frame ? s_axis_in_tdata : {{ wr.pad_beat }};
wire wcf_wrap = (wcf_reg == {{ wr.cf_last }});
wire wx_wrap = (wx_reg == {{ wr.w_last }});
wire wy_wrap = (wy_reg == {{ wr.h_last }});

always @(posedge clk) begin
    if (wr_fire) begin
        first_reg <= wcf_wrap && wx_wrap && wy_wrap;
        wcf_reg <= wcf_wrap ? {{ wr.cf_zero }} : wcf_reg + {{ wr.cf_one }};
        if (wcf_wrap) begin
            wx_reg <= wx_wrap ? {{ wr.w_zero }} : wx_reg + {{ wr.w_one }};
            if (wx_wrap) begin
                col_in_reg <= {{ wr.col_in_first }};
{%- if wr.has_left %}
            end else if (wx_reg == {{ wr.col_before }}) begin
                col_in_reg <= 1'b1;
{%- endif %}
{%- if wr.has_right %}
            end else if (wx_reg == {{ wr.col_last_in }}) begin
                col_in_reg <= 1'b0;
{%- endif %}
            end
            if (wx_wrap) begin
                wy_reg <= wy_wrap ? {{ wr.h_zero }} : wy_reg + {{ wr.h_one }};
                if (wy_wrap) begin
                    row_in_reg <= {{ wr.row_in_first }};
{%- if wr.has_top %}
                end else if (wy_reg == {{ wr.row_before }}) begin
                    row_in_reg <= 1'b1;
{%- endif %}
{%- if wr.has_bottom %}
                end else if (wy_reg == {{ wr.row_last_in }}) begin
                    row_in_reg <= 1'b0;
{%- endif %}
                end
            end
        end
    end
    if (rst) begin
        first_reg  <= 1'b1;
        wcf_reg    <= {{ wr.cf_zero }};
        wx_reg     <= {{ wr.w_zero }};
        wy_reg     <= {{ wr.h_zero }};
        row_in_reg <= {{ wr.row_in_first }};
        col_in_reg <= {{ wr.col_in_first }};
    end
end
{%- else %}
assign s_axis_in_tready = room;
wire wr_fire = s_axis_in_tvalid && room;
wire [{{ data_msb }}:0] wr_data = s_axis_in_tdata;
{%- endif %}

always @(posedge clk) begin
    if (wr_fire) begin
        buf_mem[wr_addr_reg] <= wr_data;
    end
end

always @(posedge clk) begin
    if (wr_fire) begin
        wr_addr_reg <= (wr_addr_reg == {{ addr_last }}) ? {{ addr_zero }} : wr_addr_reg + {{ addr_one }};
    end
    if (rst) begin
        wr_addr_reg <= {{ addr_zero }};
    end
end

// ---- reader: position in the window and in the output feature map ----
reg [{{ cf_msb }}:0] cf_reg;    // channel fold
reg [{{ kx_msb }}:0] kx_reg;    // kernel column
reg [{{ ky_msb }}:0] ky_reg;    // kernel row
reg [{{ ow_msb }}:0] ow_reg;    // output column
reg [{{ oh_msb }}:0] oh_reg;    // output row
reg busy_reg;                   // inside a window (its first beat was read)
reg [{{ addr_msb }}:0] tl_reg;  // address of the window's top-left beat

wire cf_last = (cf_reg == {{ cf_last }});
wire kx_last = (kx_reg == {{ kx_last }});
wire ky_last = (ky_reg == {{ ky_last }});
wire ow_last = (ow_reg == {{ ow_last }});
wire oh_last = (oh_reg == {{ oh_last }});
wire win_last = cf_last && kx_last && ky_last;

// read one beat when the skid buffer has room and the window is in the buffer
wire go = adv && (busy_reg || (fill_reg >= {{ fill_need }}));
wire win_done = go && win_last;

// next read address inside the window: add inc modulo {{ depth }} (thr = {{ depth }} - inc)
reg [{{ addr_msb }}:0] in_inc;
reg [{{ addr_msb }}:0] in_thr_lo;
reg [{{ addr_wide_msb }}:0] in_thr;
always @* begin
    if (!cf_last) begin
        in_inc = {{ inc_cf }};
        in_thr = {{ thr_cf }};
        in_thr_lo = {{ thr_lo_cf }};
    end else if (!kx_last) begin
        in_inc = {{ inc_kx }};
        in_thr = {{ thr_kx }};
        in_thr_lo = {{ thr_lo_kx }};
    end else begin
        in_inc = {{ inc_ky }};
        in_thr = {{ thr_ky }};
        in_thr_lo = {{ thr_lo_ky }};
    end
end
wire [{{ addr_msb }}:0] rd_addr_next = ({ 1'b0, rd_addr_reg } >= in_thr) ? rd_addr_reg - in_thr_lo : rd_addr_reg + in_inc;

// top-left of the next window: the next output column, row or frame
reg [{{ addr_msb }}:0] st_inc;
reg [{{ addr_msb }}:0] st_thr_lo;
reg [{{ addr_wide_msb }}:0] st_thr;
reg [{{ fill_msb }}:0] st_fill;
always @* begin
    if (!ow_last) begin
        st_inc = {{ inc_px }};
        st_thr = {{ thr_px }};
        st_thr_lo = {{ thr_lo_px }};
        st_fill = {{ fill_px }};
    end else if (!oh_last) begin
        st_inc = {{ inc_row }};
        st_thr = {{ thr_row }};
        st_thr_lo = {{ thr_lo_row }};
        st_fill = {{ fill_row }};
    end else begin
        st_inc = {{ inc_frame }};
        st_thr = {{ thr_frame }};
        st_thr_lo = {{ thr_lo_frame }};
        st_fill = {{ fill_frame }};
    end
end
wire [{{ addr_msb }}:0] tl_next = ({ 1'b0, tl_reg } >= st_thr) ? tl_reg - st_thr_lo : tl_reg + st_inc;

always @* begin
    fill_next = fill_reg;
    if (wr_fire) begin
        fill_next = fill_next + {{ fill_one }};
    end
    if (win_done) begin
        fill_next = fill_next - st_fill;
    end
end

always @(posedge clk) begin
    fill_reg <= fill_next;
    if (go) begin
        if (win_last) begin
            busy_reg    <= 1'b0;
            tl_reg      <= tl_next;
            rd_addr_reg <= tl_next;
            cf_reg      <= {{ cf_zero }};
            kx_reg      <= {{ kx_zero }};
            ky_reg      <= {{ ky_zero }};
            ow_reg      <= ow_last ? {{ ow_zero }} : ow_reg + {{ ow_one }};
            if (ow_last) begin
                oh_reg <= oh_last ? {{ oh_zero }} : oh_reg + {{ oh_one }};
            end
        end else begin
            busy_reg    <= 1'b1;
            rd_addr_reg <= rd_addr_next;
            cf_reg      <= cf_last ? {{ cf_zero }} : cf_reg + {{ cf_one }};
            if (cf_last) begin
                kx_reg <= kx_last ? {{ kx_zero }} : kx_reg + {{ kx_one }};
                if (kx_last) begin
                    ky_reg <= ky_reg + {{ ky_one }};
                end
            end
        end
    end
    if (rst) begin
        fill_reg    <= {{ fill_zero }};
        busy_reg    <= 1'b0;
        tl_reg      <= {{ addr_zero }};
        rd_addr_reg <= {{ addr_zero }};
        cf_reg      <= {{ cf_zero }};
        kx_reg      <= {{ kx_zero }};
        ky_reg      <= {{ ky_zero }};
        ow_reg      <= {{ ow_zero }};
        oh_reg      <= {{ oh_zero }};
    end
end

// registered read (block or distributed RAM), held while the skid buffer is full
always @(posedge clk) begin
    if (adv) begin
        rd_data_reg <= buf_mem[rd_addr_reg];
    end
end

always @(posedge clk) begin
    if (adv) begin
        rd_valid_reg <= go;
    end
    if (rst) begin
        rd_valid_reg <= 1'b0;
    end
end

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ data_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(rd_data_reg),
    .s_axis_in_tvalid(rd_valid_reg),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

{% include "lib/header.v" -%}
module {{ module }} #(
    // bits of one element (lane)
    parameter ELEM_WIDTH = 8,
    // lanes of an input beat
    parameter IN_LANES = 1,
    // lanes of an output beat
    parameter OUT_LANES = 1,
    // bits of the buffer: (IN_LANES + OUT_LANES) * ELEM_WIDTH
    parameter BUF_WIDTH = 16,
    // bits of the fill counter (counts bits held, 0 ..= BUF_WIDTH)
    parameter FILL_WIDTH = 5,
    // IN_LANES * ELEM_WIDTH, as a fill value
    parameter [FILL_WIDTH-1:0] IN_BITS = 8,
    // OUT_LANES * ELEM_WIDTH, as a fill value
    parameter [FILL_WIDTH-1:0] OUT_BITS = 8
) (
    input  wire                            clk,
    input  wire                            rst,
    /* input stream: IN_LANES elements a beat, lane 0 in the LSBs; tready from registers */
    input  wire [IN_LANES*ELEM_WIDTH-1:0]  s_axis_in_tdata,
    input  wire                            s_axis_in_tvalid,
    output wire                            s_axis_in_tready,
    /* output stream: OUT_LANES elements a beat, lane 0 in the LSBs; registered */
    output wire [OUT_LANES*ELEM_WIDTH-1:0] m_axis_out_tdata,
    output wire                            m_axis_out_tvalid,
    input  wire                            m_axis_out_tready
);

// illegal parameters stop elaboration
generate
    if (BUF_WIDTH != (IN_LANES + OUT_LANES) * ELEM_WIDTH
            || {1'b0, IN_BITS} != IN_LANES * ELEM_WIDTH
            || {1'b0, OUT_BITS} != OUT_LANES * ELEM_WIDTH
            || (1 << FILL_WIDTH) <= BUF_WIDTH) begin : g_bad_params
        initial begin
            $display("ERROR: %m: inconsistent parameters (buffer %0d bits, fill counter %0d bits)", BUF_WIDTH, FILL_WIDTH);
            $finish;
        end
    end
endgenerate

// elements in stream order, oldest in the LSBs; fill_reg bits are valid
reg [BUF_WIDTH-1:0]  buf_reg;
reg [FILL_WIDTH-1:0] fill_reg;

// room for a whole input beat; full output beat available
assign s_axis_in_tready  = fill_reg <= OUT_BITS;
assign m_axis_out_tvalid = fill_reg >= OUT_BITS;
assign m_axis_out_tdata  = buf_reg[OUT_LANES*ELEM_WIDTH-1:0];

wire in_fire  = s_axis_in_tvalid && (fill_reg <= OUT_BITS);
wire out_fire = m_axis_out_tready && (fill_reg >= OUT_BITS);

wire [FILL_WIDTH-1:0] kept      = out_fire ? fill_reg - OUT_BITS : fill_reg;
wire [BUF_WIDTH-1:0]  shifted   = out_fire ? (buf_reg >> OUT_BITS) : buf_reg;
wire [BUF_WIDTH-1:0]  keep_mask = ~({BUF_WIDTH{1'b1}} << kept);
wire [BUF_WIDTH-1:0]  incoming  = { {(BUF_WIDTH-IN_LANES*ELEM_WIDTH){1'b0}}, s_axis_in_tdata } << kept;

always @(posedge clk) begin
    buf_reg  <= (shifted & keep_mask) | (in_fire ? incoming : {BUF_WIDTH{1'b0}});
    fill_reg <= in_fire ? kept + IN_BITS : kept;
    if (rst) begin
        fill_reg <= 0;
    end
end

endmodule

`resetall

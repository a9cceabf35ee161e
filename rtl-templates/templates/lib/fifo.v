{% include "lib/header.v" -%}
module {{ module }} #(
    // bits of one beat
    parameter DATA_WIDTH = 8,
    // log2 of the depth
    parameter ADDR_WIDTH = 1,
    // beats held, 2**ADDR_WIDTH
    parameter DEPTH = 2
) (
    input  wire                  clk,
    input  wire                  rst,
    /* input stream: tready is a register (not full) */
    input  wire [DATA_WIDTH-1:0] s_axis_in_tdata,
    input  wire                  s_axis_in_tvalid,
    output wire                  s_axis_in_tready,
    /* output stream: tdata is the registered RAM read, tvalid a register */
    output wire [DATA_WIDTH-1:0] m_axis_out_tdata,
    output wire                  m_axis_out_tvalid,
    input  wire                  m_axis_out_tready
);

// illegal parameters stop elaboration
generate
    if (DEPTH != (1 << ADDR_WIDTH) || ADDR_WIDTH < 1) begin : g_bad_depth
        initial begin
            $display("ERROR: %m: DEPTH %0d must be 2**ADDR_WIDTH (ADDR_WIDTH %0d >= 1)", DEPTH, ADDR_WIDTH);
            $finish;
        end
    end
endgenerate

localparam [ADDR_WIDTH-1:0] ONE = 1;

reg [DATA_WIDTH-1:0] mem [0:DEPTH-1];
reg [ADDR_WIDTH-1:0] wr_ptr_reg;
reg [ADDR_WIDTH-1:0] rd_ptr_reg;
reg [ADDR_WIDTH:0]   count_reg;
reg [DATA_WIDTH-1:0] q_reg;
reg                  valid_reg;

wire                  wr = s_axis_in_tvalid && !count_reg[ADDR_WIDTH];
wire                  rd = valid_reg && m_axis_out_tready;
wire [ADDR_WIDTH-1:0] rd_ptr_next = rd ? rd_ptr_reg + ONE : rd_ptr_reg;
wire [ADDR_WIDTH:0]   count_next = count_reg + { {ADDR_WIDTH{1'b0}}, wr } - { {ADDR_WIDTH{1'b0}}, rd };

assign s_axis_in_tready  = !count_reg[ADDR_WIDTH];
assign m_axis_out_tdata  = q_reg;
assign m_axis_out_tvalid = valid_reg;

// RAM: synchronous write, synchronous read of the next head (block or distributed RAM)
always @(posedge clk) begin
    if (wr) begin
        mem[wr_ptr_reg] <= s_axis_in_tdata;
    end
    q_reg <= mem[rd_ptr_next];
end

always @(posedge clk) begin
    wr_ptr_reg <= wr ? wr_ptr_reg + ONE : wr_ptr_reg;
    rd_ptr_reg <= rd_ptr_next;
    count_reg  <= count_next;
    // a word written this cycle at the next head is readable one cycle later
    valid_reg  <= (count_next != 0) && !(wr && (wr_ptr_reg == rd_ptr_next));
    if (rst) begin
        wr_ptr_reg <= 0;
        rd_ptr_reg <= 0;
        count_reg  <= 0;
        valid_reg  <= 1'b0;
    end
end

endmodule

`resetall

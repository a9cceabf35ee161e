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
    /* output stream: tdata is the registered RAM read, tvalid a register; tready enables the read, never addresses it */
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

// Beats held: count_reg in all (the RAM's unread words and the output register), of which
// ram_count_reg in the RAM. The RAM is read at rd_ptr_reg, a register: m_axis_out_tready
// only enables the read (and the pointer's increment), it never reaches a read address.
reg [DATA_WIDTH-1:0] mem [0:DEPTH-1];
reg [ADDR_WIDTH-1:0] wr_ptr_reg;
reg [ADDR_WIDTH-1:0] rd_ptr_reg;
reg [ADDR_WIDTH:0]   count_reg;
reg [ADDR_WIDTH:0]   ram_count_reg;
reg [DATA_WIDTH-1:0] q_reg;
reg                  valid_reg;

wire wr   = s_axis_in_tvalid && !count_reg[ADDR_WIDTH];
wire pop  = valid_reg && m_axis_out_tready;
// load the output register from the RAM: a word written at an earlier edge, and room
wire load = (ram_count_reg != 0) && (!valid_reg || m_axis_out_tready);

assign s_axis_in_tready  = !count_reg[ADDR_WIDTH];
assign m_axis_out_tdata  = q_reg;
assign m_axis_out_tvalid = valid_reg;

// RAM: synchronous write, synchronous read with enable at a registered address (block or
// distributed RAM). A read never meets a write to its word: a write needs count_reg < DEPTH,
// so it goes to a word that holds no unread beat.
always @(posedge clk) begin
    if (wr) begin
        mem[wr_ptr_reg] <= s_axis_in_tdata;
    end
    if (load) begin
        q_reg <= mem[rd_ptr_reg];
    end
end

always @(posedge clk) begin
    if (wr) begin
        wr_ptr_reg <= wr_ptr_reg + ONE;
    end
    if (load) begin
        rd_ptr_reg <= rd_ptr_reg + ONE;
    end
    count_reg     <= count_reg + { {ADDR_WIDTH{1'b0}}, wr } - { {ADDR_WIDTH{1'b0}}, pop };
    ram_count_reg <= ram_count_reg + { {ADDR_WIDTH{1'b0}}, wr } - { {ADDR_WIDTH{1'b0}}, load };
    if (load) begin
        valid_reg <= 1'b1;
    end else if (pop) begin
        valid_reg <= 1'b0;
    end
    if (rst) begin
        wr_ptr_reg    <= 0;
        rd_ptr_reg    <= 0;
        count_reg     <= 0;
        ram_count_reg <= 0;
        valid_reg     <= 1'b0;
    end
end

endmodule

`resetall

{% include "lib/header.v" -%}
module {{ module }} #(
    // bits of one beat
    parameter DATA_WIDTH = 8
) (
    input  wire                  clk,
    input  wire                  rst,
    /* input stream: s_axis_in_tready comes from a register only */
    input  wire [DATA_WIDTH-1:0] s_axis_in_tdata,
    input  wire                  s_axis_in_tvalid,
    output wire                  s_axis_in_tready,
    /* output stream: tdata and tvalid come from registers */
    output wire [DATA_WIDTH-1:0] m_axis_out_tdata,
    output wire                  m_axis_out_tvalid,
    input  wire                  m_axis_out_tready
);

reg [DATA_WIDTH-1:0] out_data_reg;
reg                  out_valid_reg;
reg [DATA_WIDTH-1:0] skid_data_reg;
reg                  skid_valid_reg;

assign s_axis_in_tready  = !skid_valid_reg;
assign m_axis_out_tdata  = out_data_reg;
assign m_axis_out_tvalid = out_valid_reg;

wire in_fire   = s_axis_in_tvalid && !skid_valid_reg;
wire out_free  = !out_valid_reg || m_axis_out_tready;

always @(posedge clk) begin
    if (out_free) begin
        if (skid_valid_reg) begin
            // the parked beat leaves first; the input is not ready this cycle
            out_data_reg   <= skid_data_reg;
            out_valid_reg  <= 1'b1;
            skid_valid_reg <= 1'b0;
        end else begin
            out_data_reg  <= s_axis_in_tdata;
            out_valid_reg <= in_fire;
        end
    end else if (in_fire) begin
        // output stalled: park the beat
        skid_data_reg  <= s_axis_in_tdata;
        skid_valid_reg <= 1'b1;
    end
    if (rst) begin
        out_valid_reg  <= 1'b0;
        skid_valid_reg <= 1'b0;
    end
end

endmodule

`resetall

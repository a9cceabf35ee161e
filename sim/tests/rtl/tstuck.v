// SPDX-License-Identifier: Apache-2.0
// Test design that deadlocks: accepts 3 beats, then never again.
`resetall
`timescale 1ns/1ps
`default_nettype none
module tstuck (
    input  wire       clk,
    input  wire       rst_n,
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    output wire       s_axis_tready,
    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tvalid,
    input  wire       m_axis_tready
);
    reg [1:0] count_reg;
    reg [7:0] data_reg;
    reg       valid_reg;
    assign s_axis_tready = count_reg != 2'd3 && (!valid_reg || m_axis_tready);
    assign m_axis_tdata = data_reg;
    assign m_axis_tvalid = valid_reg;
    always @(posedge clk) begin
        if (m_axis_tready) begin
            valid_reg <= 1'b0;
        end
        if (s_axis_tready && s_axis_tvalid) begin
            valid_reg <= 1'b1;
            data_reg <= s_axis_tdata;
            count_reg <= count_reg + 2'd1;
        end
        if (!rst_n) begin
            valid_reg <= 1'b0;
            count_reg <= 2'd0;
        end
    end
endmodule
`resetall

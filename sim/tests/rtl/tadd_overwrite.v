// SPDX-License-Identifier: Apache-2.0
// Deliberately broken test design: always ready; a beat arriving while the output is held
// by backpressure overwrites the one waiting (tdata changes under tvalid: AXI violation).
`resetall
`timescale 1ns/1ps
`default_nettype none
module tadd_overwrite #(
    // data width
    parameter integer W = 16,
    // constant added to every beat
    parameter [W-1:0] ADD = 1
) (
    input  wire         clk,
    input  wire         rst_n,
    input  wire [W-1:0] s_axis_tdata,
    input  wire         s_axis_tvalid,
    output wire         s_axis_tready,
    output wire [W-1:0] m_axis_tdata,
    output wire         m_axis_tvalid,
    input  wire         m_axis_tready
);
    reg [W-1:0] out_reg;
    reg         out_valid_reg;

    assign s_axis_tready = 1'b1;
    assign m_axis_tdata = out_reg;
    assign m_axis_tvalid = out_valid_reg;

    always @(posedge clk) begin
        if (s_axis_tvalid) begin
            out_reg <= s_axis_tdata + ADD;
            out_valid_reg <= 1'b1;
        end else if (m_axis_tready) begin
            out_valid_reg <= 1'b0;
        end
        if (!rst_n) begin
            out_valid_reg <= 1'b0;
        end
    end
endmodule
`resetall

// SPDX-License-Identifier: Apache-2.0
// Test design: adds ADD to every beat; registered output with a skid buffer, so it takes a
// beat every cycle and never loses one under backpressure.
`resetall
`timescale 1ns/1ps
`default_nettype none
module tadd_skid #(
    // data width
    parameter integer W = 16,
    // constant added to every beat
    parameter [W-1:0] ADD = 1,
    // nonzero: stop the simulation with $error at time 0 (tests error reporting)
    parameter integer FAIL = 0
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
    reg [W-1:0] skid_reg;
    reg         skid_valid_reg;
    wire [W-1:0] sum = s_axis_tdata + ADD;
    wire in_fire = s_axis_tvalid && !skid_valid_reg;
    wire out_free = !out_valid_reg || m_axis_tready;

    assign s_axis_tready = !skid_valid_reg;
    assign m_axis_tdata = out_reg;
    assign m_axis_tvalid = out_valid_reg;

    initial begin
        if (FAIL != 0) begin
            $error("FAIL is set %m");
            $finish;
        end
    end

    always @(posedge clk) begin
        if (out_free) begin
            if (skid_valid_reg) begin
                out_reg <= skid_reg;
                out_valid_reg <= 1'b1;
                skid_valid_reg <= 1'b0;
            end else begin
                out_reg <= sum;
                out_valid_reg <= in_fire;
            end
        end else if (in_fire) begin
            skid_reg <= sum;
            skid_valid_reg <= 1'b1;
        end
        if (!rst_n) begin
            out_valid_reg <= 1'b0;
            skid_valid_reg <= 1'b0;
        end
    end
endmodule
`resetall

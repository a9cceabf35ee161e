{% include "lib/header.v" -%}
// A model of the subset of the block that ferrite instantiates, written from the
// documented behaviour: 1K x 18 reads on both ports, a read register clocked when CEx is
// high, then (REGMODE_x = "OUTREG") an output register clocked when OCEx is high, reset
// synchronously to zero by RSTx. Writes, chip selects and the other widths are not
// modelled: the model stops the simulation when a parameter asks for them. Give it to
// simulators only; synthesis maps DP16KD to the FPGA's block.
module DP16KD #(
    parameter DATA_WIDTH_A = 18,
    parameter DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG",
    parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC",
    parameter GSR = "ENABLED"
{%- for n in initvals %},
    parameter [319:0] INITVAL_{{ n }} = 320'h0
{%- endfor %}
) (
    input  wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input  wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input  wire CEA, OCEA, CLKA, WEA, RSTA,
    input  wire CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input  wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input  wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input  wire CEB, OCEB, CLKB, WEB, RSTB,
    input  wire CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);

localparam [20479:0] INIT_ALL = {
{%- for n in initvals.iter().rev() %}
    INITVAL_{{ n }}{% if !loop.last %},{% endif %}
{%- endfor %}
};
// the configurations the model covers (a string parameter compared with one of its values)
localparam OK_A = (DATA_WIDTH_A == 18) && (REGMODE_A == "OUTREG" || REGMODE_A == "NOREG");
localparam OK_B = (DATA_WIDTH_B == 18) && (REGMODE_B == "OUTREG" || REGMODE_B == "NOREG");
localparam OK = OK_A && OK_B && (RESETMODE == "SYNC") && (GSR == "DISABLED" || GSR == "ENABLED");
localparam OUT_A = (REGMODE_A == "OUTREG");
localparam OUT_B = (REGMODE_B == "OUTREG");

reg [17:0] mem [0:1023];
integer r;
initial begin
    if (!OK) begin
        $display("DP16KD model: only 1K x 18 reads, REGMODE NOREG/OUTREG, RESETMODE SYNC are modelled");
        $finish;
    end
    for (r = 0; r < 1024; r = r + 1) begin
        mem[r] = INIT_ALL[r * 20 +: 18];
    end
end

wire [9:0] row_a = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4};
wire [9:0] row_b = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4};
// inputs of the parts not modelled (writes, byte enables, chip selects)
wire unused_inputs = ^{DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
                       DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
                       ADA3, ADA2, ADA1, ADA0, ADB3, ADB2, ADB1, ADB0, WEA, WEB, CSA2, CSA1, CSA0, CSB2, CSB1, CSB0};

reg [17:0] rd_a;
reg [17:0] rd_b;
reg [17:0] out_a;
reg [17:0] out_b;
always @(posedge CLKA) begin
    if (RSTA) begin
        rd_a <= 18'd0;
    end else if (CEA) begin
        rd_a <= mem[row_a];
    end
    if (RSTA) begin
        out_a <= 18'd0;
    end else if (OCEA) begin
        out_a <= rd_a;
    end
end
always @(posedge CLKB) begin
    if (RSTB) begin
        rd_b <= 18'd0;
    end else if (CEB) begin
        rd_b <= mem[row_b];
    end
    if (RSTB) begin
        out_b <= 18'd0;
    end else if (OCEB) begin
        out_b <= rd_b;
    end
end
wire [17:0] doa = OUT_A ? out_a : rd_a;
wire [17:0] dob = OUT_B ? out_b : rd_b;
assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;

endmodule

`resetall

{% include "lib/header.v" -%}
module {{ module }} #(
    // directory of the .mem files, ending in a slash ("" = the working directory of the simulator or tool)
    parameter MEM_DIR = ""
) (
    input  wire clk,
    input  wire rst,
    /* input: {{ pe }} lanes of {{ in_bits }} bits a beat (lane 0 in the LSBs), {{ beats }} beats a frame */
    input  wire [{{ in_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: {{ pe }} lanes of {{ out_bits }} bits a beat (lane 0 in the LSBs) */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// the pipeline advances when the output skid buffer has room (a register)
wire adv;
assign s_axis_in_tready = adv;
wire in_fire = adv && s_axis_in_tvalid;

// thresholds of the {{ pe }} channels of the current beat: {{ nt }} a channel, {{ cmp_bits }} bits each
reg [{{ thr_msb }}:0] thr_rom [0:{{ thr_rom_last }}];
initial begin
    $readmemh({MEM_DIR, "{{ thr_file }}"}, thr_rom);
end
reg [{{ cf_msb }}:0] cf_reg;
wire [{{ thr_msb }}:0] thr = thr_rom[cf_reg];

// input lane value at {{ cmp_bits }} bits, signed
function [{{ cmp_msb_bits }}:0] f_val;
    input [{{ in_bits_msb }}:0] v;
    begin
{%- if in_kind.is_bipolar() %}
        f_val = v[0] ? {{ cmp_bits }}'d1 : { { {{ cmp_bits }}{1'b1}} };
{%- else if in_kind.is_int() %}
        f_val = { { {{ in_ext }}{v[{{ in_bits_msb }}]}}, v };
{%- else %}
        f_val = { { {{ in_ext }}{1'b0}}, v };
{%- endif %}
    end
endfunction

// ---- stage 1: compare (x >= t), registered ----
reg [{{ cmp_all_msb }}:0] cmp_reg;
reg cmp_valid_reg;
always @(posedge clk) begin : cmp_stage
    integer p;
    integer j;
    if (adv) begin
        for (p = 0; p < {{ pe }}; p = p + 1) begin
            for (j = 0; j < {{ nt }}; j = j + 1) begin
                cmp_reg[p*{{ nt }} + j] <= $signed(f_val(s_axis_in_tdata[p*{{ in_bits }} +: {{ in_bits }}])) >= $signed(thr[(p*{{ nt }} + j)*{{ cmp_bits }} +: {{ cmp_bits }}]);
            end
        end
        cmp_valid_reg <= s_axis_in_tvalid;
        if (in_fire) begin
            cf_reg <= (cf_reg == {{ cf_last }}) ? 0 : cf_reg + {{ cf_one }};
        end
    end
    if (rst) begin
        cmp_valid_reg <= 1'b0;
        cf_reg        <= 0;
    end
end

wire [{{ out_msb }}:0] result;
{%- include "lib/threshold_encode.v" %}

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ out_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(result),
    .s_axis_in_tvalid(cmp_valid_reg),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

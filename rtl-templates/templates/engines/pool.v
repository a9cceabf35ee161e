{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
    /* input: beats of {{ pe }} x {{ in_bits }}-bit lanes (lane 0 in the LSBs); a frame: output pixels {{ outputs }} x positions {{ positions }} x channel folds {{ folds }} */
    input  wire [{{ in_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: beats of {{ pe }} x {{ acc_bits }}-bit lanes, the {{ op_name }} over the positions; a frame: output pixels {{ outputs }} x channel folds {{ folds }} */
    output wire [{{ out_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// the output skid buffer has room (a register)
wire adv;
{%- if has_acc %}

// position and channel fold of the next input beat
reg [{{ p_msb }}:0] p_reg;
{%- if has_cf %}
reg [{{ cf_msb }}:0] cf_reg;
{%- endif %}
wire first = (p_reg == {{ p_zero }});
wire last = (p_reg == {{ p_last }});
// a beat of the last position leaves through the skid buffer; the other beats only update
// an accumulator, so they never wait for the output
assign s_axis_in_tready = adv || !last;
wire in_fire = s_axis_in_tvalid && s_axis_in_tready;
wire out_valid = s_axis_in_tvalid && last;

// the accumulators: one word of {{ pe }} lanes a channel fold, read asynchronously
{%- if has_cf %}
reg [{{ out_msb }}:0] acc_mem [0:{{ cf_mem_last }}];
wire [{{ out_msb }}:0] acc = acc_mem[cf_reg];
{%- else %}
reg [{{ out_msb }}:0] acc_reg;
wire [{{ out_msb }}:0] acc = acc_reg;
{%- endif %}
{%- else %}

// one position: every beat is an output beat
assign s_axis_in_tready = adv;
wire out_valid = s_axis_in_tvalid;
{%- endif %}

// the {{ op_name }} of each lane: the accumulator with the input beat folded in
wire [{{ out_msb }}:0] result;
genvar l;
generate
    for (l = 0; l < {{ pe }}; l = l + 1) begin : g_lane
        wire [{{ in_bits_msb }}:0] x = s_axis_in_tdata[l*{{ in_bits }} +: {{ in_bits }}];
{%- if sum %}
        // the input value at {{ acc_bits }} bits
        wire [{{ acc_bits_msb }}:0] xe;
{%- if x_bipolar %}
        assign xe = x[0] ? {{ acc_one }} : {{ acc_minus_one }};
{%- else if acc_ext == 0 %}
        assign xe = x;
{%- else if x_signed %}
        assign xe = { { {{ acc_ext }}{x[{{ in_bits_msb }}]}}, x };
{%- else %}
        assign xe = { { {{ acc_ext }}{1'b0}}, x };
{%- endif %}
{%- if has_acc %}
        wire [{{ acc_bits_msb }}:0] a = acc[l*{{ acc_bits }} +: {{ acc_bits }}];
        assign result[l*{{ acc_bits }} +: {{ acc_bits }}] = first ? xe : a + xe;
{%- else %}
        assign result[l*{{ acc_bits }} +: {{ acc_bits }}] = xe;
{%- endif %}
{%- else %}
{%- if has_acc %}
        wire [{{ acc_bits_msb }}:0] a = acc[l*{{ acc_bits }} +: {{ acc_bits }}];
{%- if x_signed %}
        assign result[l*{{ acc_bits }} +: {{ acc_bits }}] = (first || ($signed(x) > $signed(a))) ? x : a;
{%- else %}
        // unsigned codes (a bipolar max is the OR of its codes)
        assign result[l*{{ acc_bits }} +: {{ acc_bits }}] = (first || (x > a)) ? x : a;
{%- endif %}
{%- else %}
        assign result[l*{{ acc_bits }} +: {{ acc_bits }}] = x;
{%- endif %}
{%- endif %}
    end
endgenerate
{%- if has_acc %}

// accumulator write (no reset: the first position overwrites)
always @(posedge clk) begin
    if (in_fire) begin
{%- if has_cf %}
        acc_mem[cf_reg] <= result;
{%- else %}
        acc_reg <= result;
{%- endif %}
    end
end

// counters
always @(posedge clk) begin
    if (in_fire) begin
{%- if has_cf %}
        if (cf_reg == {{ cf_last }}) begin
            cf_reg <= {{ cf_zero }};
            p_reg  <= last ? {{ p_zero }} : p_reg + {{ p_one }};
        end else begin
            cf_reg <= cf_reg + {{ cf_one }};
        end
{%- else %}
        p_reg <= last ? {{ p_zero }} : p_reg + {{ p_one }};
{%- endif %}
    end
    if (rst) begin
        p_reg  <= {{ p_zero }};
{%- if has_cf %}
        cf_reg <= {{ cf_zero }};
{%- endif %}
    end
end
{%- endif %}

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ out_width }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(result),
    .s_axis_in_tvalid(out_valid),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

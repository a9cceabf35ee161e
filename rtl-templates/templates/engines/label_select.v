{% include "lib/header.v" -%}
module {{ module }} (
    input  wire clk,
    input  wire rst,
    /* input: {{ pe }} lanes of {{ in_bits }} bits a beat (lane 0 in the LSBs), {{ beats }} beats a frame of {{ labels }} labels */
    input  wire [{{ in_msb }}:0] s_axis_in_tdata,
    input  wire s_axis_in_tvalid,
    output wire s_axis_in_tready,
    /* output: the indices of the {{ k }} largest inputs, largest first (ties: lower index), one {{ idx_bits }}-bit index a beat */
    output wire [{{ idx_msb }}:0] m_axis_out_tdata,
    output wire m_axis_out_tvalid,
    input  wire m_axis_out_tready
);

// Each lane keeps its own sorted list of its {{ k }} best (value, index) pairs. At the end of a
// frame the lists move to the output side, which merges them, one index a beat, while the
// next frame fills the lists again.

// input value at {{ val_bits }} bits, signed
function [{{ val_msb }}:0] f_val;
    input [{{ in_bits_msb }}:0] v;
    begin
{%- if in_kind.is_bipolar() %}
        f_val = v[0] ? {{ val_bits }}'d1 : { { {{ val_bits }}{1'b1}} };
{%- else if in_kind.is_int() %}
        f_val = v;
{%- else %}
        f_val = { { {{ in_ext }}{1'b0}}, v };
{%- endif %}
    end
endfunction

// ---- input side ----
reg [{{ idx_msb }}:0] base_reg;     // index of lane 0 of the current beat
reg full_reg;                       // the lists hold a whole frame not yet moved out
reg [{{ cnt_msb }}:0] sh_cnt_reg;   // indices still to send
wire adv;                           // the output skid buffer has room (a register)
// the output side is free now, or sends its last index this cycle
wire out_free = (sh_cnt_reg == 0) || ((sh_cnt_reg == {{ cnt_one }}) && adv);
wire xfer = full_reg && out_free;
assign s_axis_in_tready = !full_reg || out_free;
wire in_fire = s_axis_in_tvalid && s_axis_in_tready;
wire first_beat = (base_reg == 0);
wire last_beat = (base_reg == {{ base_last }});

always @(posedge clk) begin
    if (xfer) begin
        full_reg <= 1'b0;
    end
    if (in_fire) begin
        base_reg <= last_beat ? 0 : base_reg + {{ base_step }};
        if (last_beat) begin
            full_reg <= 1'b1;
        end
    end
    if (rst) begin
        base_reg <= 0;
        full_reg <= 1'b0;
    end
end

genvar c;
{%- for l in lanes %}

// lane {{ l.p }}: list of the best {{ k }}, best in cell 0
reg [{{ kval_msb }}:0] val_{{ l.p }};
reg [{{ kidx_msb }}:0] idx_{{ l.p }};
reg [{{ k_msb }}:0] vld_{{ l.p }};
wire [{{ in_bits_msb }}:0] nv_{{ l.p }} = s_axis_in_tdata[{{ l.p }}*{{ in_bits }} +: {{ in_bits }}];
wire [{{ idx_msb }}:0] ni_{{ l.p }} = base_reg + {{ l.lit }};
wire [{{ k_msb }}:0] gt_{{ l.p }};
wire [{{ kval_msb }}:0] nval_{{ l.p }};
wire [{{ kidx_msb }}:0] nidx_{{ l.p }};
wire [{{ k_msb }}:0] nvld_{{ l.p }};
generate
    for (c = 0; c < {{ k }}; c = c + 1) begin : g_lane{{ l.p }}
        // the new value beats cell c (an equal value stays ahead: it has the lower index)
        assign gt_{{ l.p }}[c] = first_beat || !vld_{{ l.p }}[c] || ($signed(f_val(nv_{{ l.p }})) > $signed(f_val(val_{{ l.p }}[c*{{ in_bits }} +: {{ in_bits }}])));
        if (c == 0) begin : g_head
            assign nval_{{ l.p }}[c*{{ in_bits }} +: {{ in_bits }}] = gt_{{ l.p }}[c] ? nv_{{ l.p }} : val_{{ l.p }}[c*{{ in_bits }} +: {{ in_bits }}];
            assign nidx_{{ l.p }}[c*{{ idx_bits }} +: {{ idx_bits }}] = gt_{{ l.p }}[c] ? ni_{{ l.p }} : idx_{{ l.p }}[c*{{ idx_bits }} +: {{ idx_bits }}];
            assign nvld_{{ l.p }}[c] = 1'b1;
        end else begin : g_cell
            assign nval_{{ l.p }}[c*{{ in_bits }} +: {{ in_bits }}] = !gt_{{ l.p }}[c] ? val_{{ l.p }}[c*{{ in_bits }} +: {{ in_bits }}]
                : gt_{{ l.p }}[c-1] ? val_{{ l.p }}[(c-1)*{{ in_bits }} +: {{ in_bits }}] : nv_{{ l.p }};
            assign nidx_{{ l.p }}[c*{{ idx_bits }} +: {{ idx_bits }}] = !gt_{{ l.p }}[c] ? idx_{{ l.p }}[c*{{ idx_bits }} +: {{ idx_bits }}]
                : gt_{{ l.p }}[c-1] ? idx_{{ l.p }}[(c-1)*{{ idx_bits }} +: {{ idx_bits }}] : ni_{{ l.p }};
            assign nvld_{{ l.p }}[c] = !gt_{{ l.p }}[c] ? vld_{{ l.p }}[c]
                : gt_{{ l.p }}[c-1] ? (vld_{{ l.p }}[c-1] && !first_beat) : 1'b1;
        end
    end
endgenerate
always @(posedge clk) begin
    if (in_fire) begin
        val_{{ l.p }} <= nval_{{ l.p }};
        idx_{{ l.p }} <= nidx_{{ l.p }};
        vld_{{ l.p }} <= nvld_{{ l.p }};
    end
    if (rst) begin
        vld_{{ l.p }} <= 0;
    end
end
{%- endfor %}

// ---- output side: merge the lanes' lists ----
wire pop = (sh_cnt_reg != 0) && adv;
{%- for l in lanes %}
{%- if multi_lane %}
reg [{{ kval_msb }}:0] sh_val_{{ l.p }};
reg [{{ k_msb }}:0] sh_vld_{{ l.p }};
{%- endif %}
reg [{{ kidx_msb }}:0] sh_idx_{{ l.p }};
{%- endfor %}

// best head: larger value, then lower index
{%- if multi_lane %}
reg [{{ val_msb }}:0] best_val;
reg best_ok;
{%- endif %}
reg [{{ idx_msb }}:0] best_idx;
reg [{{ pe_msb }}:0] best_sel;
always @* begin
{%- if multi_lane %}
    best_val = f_val(sh_val_0[{{ in_bits_msb }}:0]);
    best_ok  = sh_vld_0[0];
{%- endif %}
    best_idx = sh_idx_0[{{ idx_msb }}:0];
    best_sel = {{ sel_first }};
{%- for l in lanes_rest %}
    if (sh_vld_{{ l.p }}[0] && (!best_ok || ($signed(f_val(sh_val_{{ l.p }}[{{ in_bits_msb }}:0])) > $signed(best_val))
            || ((f_val(sh_val_{{ l.p }}[{{ in_bits_msb }}:0]) == best_val) && (sh_idx_{{ l.p }}[{{ idx_msb }}:0] < best_idx)))) begin
        best_val = f_val(sh_val_{{ l.p }}[{{ in_bits_msb }}:0]);
        best_idx = sh_idx_{{ l.p }}[{{ idx_msb }}:0];
        best_ok  = 1'b1;
        best_sel = {{ l.sel }};
    end
{%- endfor %}
end

always @(posedge clk) begin
    // a transfer may coincide with the last pop: the new lists replace the emptied ones
    if (xfer) begin
{%- for l in lanes %}
{%- if multi_lane %}
        sh_val_{{ l.p }} <= val_{{ l.p }};
        sh_vld_{{ l.p }} <= vld_{{ l.p }};
{%- endif %}
        sh_idx_{{ l.p }} <= idx_{{ l.p }};
{%- endfor %}
        sh_cnt_reg <= {{ k_lit }};
    end else if (pop) begin
{%- for l in lanes %}
        if (best_sel[{{ l.p }}]) begin
{%- if k_gt1 %}
{%- if multi_lane %}
            sh_val_{{ l.p }} <= { { {{ in_bits }}{1'b0}}, sh_val_{{ l.p }}[{{ kval_msb }}:{{ in_bits }}] };
            sh_vld_{{ l.p }} <= { 1'b0, sh_vld_{{ l.p }}[{{ k_msb }}:1] };
{%- endif %}
            sh_idx_{{ l.p }} <= { { {{ idx_bits }}{1'b0}}, sh_idx_{{ l.p }}[{{ kidx_msb }}:{{ idx_bits }}] };
{%- else if multi_lane %}
            sh_vld_{{ l.p }} <= 1'b0;
{%- endif %}
        end
{%- endfor %}
        sh_cnt_reg <= sh_cnt_reg - {{ cnt_one }};
    end
    if (rst) begin
        sh_cnt_reg <= 0;
    end
end

// ---- output skid buffer ----
{{ skid_module }} #(
    .DATA_WIDTH({{ idx_bits }})
) u_out (
    .clk(clk),
    .rst(rst),
    .s_axis_in_tdata(best_idx),
    .s_axis_in_tvalid(sh_cnt_reg != 0),
    .s_axis_in_tready(adv),
    .m_axis_out_tdata(m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready)
);

endmodule

`resetall

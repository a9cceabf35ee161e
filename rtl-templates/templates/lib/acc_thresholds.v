{#- Thresholds after an accumulator (`acc_reg`, `acc_valid_reg`; one output beat of PE
    channels each, ROM words in output order), registered comparisons and the output
    encoding: `result`, `result_valid`. Shared by the matrix-vector and vector-vector units. #}

// ---- thresholds: {{ nt }} a channel, compared at {{ cmp_bits }} bits (acc >= t), registered ----
reg [{{ thr_msb }}:0] thr_rom [0:{{ thr_rom_last }}];
initial begin
    $readmemh({MEM_DIR, "{{ thr_file }}"}, thr_rom);
end
reg [{{ thr_addr_msb }}:0] thr_addr_reg;
wire [{{ thr_msb }}:0] thr = thr_rom[thr_addr_reg];

function [{{ cmp_msb_bits }}:0] f_cmp_ext;
    input [{{ acc_msb }}:0] a;
    begin
{%- if cmp_kind.is_sign() %}
        f_cmp_ext = { { {{ cmp_ext }}{a[{{ acc_msb }}]}}, a };
{%- else if cmp_kind.is_zero() %}
        f_cmp_ext = { { {{ cmp_ext }}{1'b0}}, a };
{%- else %}
        f_cmp_ext = a;
{%- endif %}
    end
endfunction

reg [{{ cmp_all_msb }}:0] cmp_reg;
reg cmp_valid_reg;
always @(posedge clk) begin : cmp_stage
    integer p;
    integer j;
    if (adv) begin
        for (p = 0; p < {{ pe }}; p = p + 1) begin
            for (j = 0; j < {{ nt }}; j = j + 1) begin
                cmp_reg[p*{{ nt }} + j] <= $signed(f_cmp_ext(acc_reg[p*{{ acc_bits }} +: {{ acc_bits }}])) >= $signed(thr[(p*{{ nt }} + j)*{{ cmp_bits }} +: {{ cmp_bits }}]);
            end
        end
        cmp_valid_reg <= acc_valid_reg;
        if (acc_valid_reg) begin
            thr_addr_reg <= (thr_addr_reg == {{ thr_addr_last }}) ? 0 : thr_addr_reg + {{ thr_addr_one }};
        end
    end
    if (rst) begin
        cmp_valid_reg <= 1'b0;
        thr_addr_reg  <= 0;
    end
end

{%- include "lib/threshold_encode.v" %}
assign result_valid = cmp_valid_reg;
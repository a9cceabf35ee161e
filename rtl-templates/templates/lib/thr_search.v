{#- Multi-threshold activation as a pipelined binary search (context `ts`): stage k compares
    each lane's value (`ts_v<k>`) with one threshold, chosen among 2^k by the count bits found
    so far, and appends the result bit; one beat a cycle, `ts.stages.len()` register stages.
    Each stage reads the ROM word of its beat (`ts_addr<k>`) and only its own region of it.
    Expects `ts_v0`, `ts_valid0`, `ts_addr0`; gives `thr_count` and `thr_valid`. #}
reg [{{ ts.rom_msb }}:0] thr_rom [0:{{ ts.rom_last }}];
initial begin
    $readmemh({MEM_DIR, "{{ ts.file }}"}, thr_rom);
end
{%- for st in ts.stages %}

// stage {{ st.k }}: one compare a lane (value >= threshold), {{ st.entries }} candidate threshold(s) a lane
wire [{{ ts.rom_msb }}:0] thr_word{{ st.k }} = thr_rom[ts_addr{{ st.k }}];
{%- if st.k > 0 %}
function [{{ ts.cmp_msb }}:0] f_thr{{ st.k }};
    input [{{ st.lane_msb }}:0] row;
    input [{{ st.k_msb }}:0] r;
    begin
        case (r)
{%- for e in st.sel %}
            {{ e.lit }}: f_thr{{ st.k }} = row[{{ e.msb }}:{{ e.lsb }}];
{%- endfor %}
        endcase
    end
endfunction
{%- endif %}
reg [{{ st.n_msb }}:0] ts_n{{ st.next }};
reg ts_valid{{ st.next }};
{%- if !st.last %}
reg [{{ ts.v_msb }}:0] ts_v{{ st.next }};
reg [{{ ts.addr_msb }}:0] ts_addr{{ st.next }};
{%- endif %}
always @(posedge clk) begin : ts_stage{{ st.k }}
    integer p;
    if (adv) begin
        for (p = 0; p < {{ ts.pe }}; p = p + 1) begin
{%- if st.k == 0 %}
            ts_n{{ st.next }}[p] <= $signed(ts_v0[p*{{ ts.cmp_bits }} +: {{ ts.cmp_bits }}]) >= $signed(thr_word0[p*{{ ts.cmp_bits }} +: {{ ts.cmp_bits }}]);
{%- else %}
            ts_n{{ st.next }}[p*{{ st.next }} +: {{ st.next }}] <= {ts_n{{ st.k }}[p*{{ st.k }} +: {{ st.k }}], $signed(ts_v{{ st.k }}[p*{{ ts.cmp_bits }} +: {{ ts.cmp_bits }}]) >= $signed(f_thr{{ st.k }}(thr_word{{ st.k }}[{{ st.off }} + p*{{ st.lane_bits }} +: {{ st.lane_bits }}], ts_n{{ st.k }}[p*{{ st.k }} +: {{ st.k }}]))};
{%- endif %}
        end
        ts_valid{{ st.next }} <= ts_valid{{ st.k }};
{%- if !st.last %}
        ts_v{{ st.next }} <= ts_v{{ st.k }};
        ts_addr{{ st.next }} <= ts_addr{{ st.k }};
{%- endif %}
    end
    if (rst) begin
        ts_valid{{ st.next }} <= 1'b0;
    end
end
{%- endfor %}
wire [{{ ts.count_msb }}:0] thr_count = ts_n{{ ts.top }};
wire thr_valid = ts_valid{{ ts.top }};

`resetall
`timescale 1ns / 1ps
`default_nettype none
{% for line in header %}
// {{ line }}
{%- endfor %}


# spectrum.gp: chart 5, the latency percentile spectrum in HdrHistogram's
# style: x is 1/(1-p) on a log axis, so 90%, 99%, 99.9% ... are evenly
# spaced and the tail is as visible as the median.
# Set by loadgen: data (one block per series: 1/(1-p), latency ms),
# n, name[n], color[n], dash[n], chart_title, xmax, xticsdef.
load scripts."/common.gp"
set title chart_title
set xlabel "Percentile (log scale of 1/(1-p))"
set ylabel "Latency (ms)"
set logscale x 10
set xrange [1:xmax]
eval xticsdef
set grid xtics ytics
set yrange [0:*]
set key top left
plot for [i=1:n] data index (i-1) using 1:2 with lines lw 2.5 dt dash[i] lc rgb color[i] title name[i]

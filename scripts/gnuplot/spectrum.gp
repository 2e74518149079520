# spectrum.gp: chart 5, the latency percentile spectrum in HdrHistogram's
# style: x is 1/(1-p) on a log axis, so 90%, 99%, 99.9% ... are evenly
# spaced and the tail is as visible as the median.
# Set by loadgen: data (one block per series: 1/(1-p), latency ms),
# n, name[n], color[n], dash[n], chart_title, xmax, and the tics: ntic,
# tic[ntic] (labels, '%' doubled) at ticat[ntic].
load scripts."/common.gp"
set title chart_title
set xlabel "Percentile (log scale of 1/(1-p))"
set ylabel "Latency (ms)"
set logscale x 10
set xrange [1:xmax]
set xtics (tic[1] ticat[1])
do for [k=2:ntic] { set xtics add (tic[k] ticat[k]) }
set grid xtics ytics
set yrange [0:*]
set key top left
plot for [i=1:n] data index (i-1) using 1:2 with lines lw 2.5 dt dash[i] lc rgb color[i] title name[i]

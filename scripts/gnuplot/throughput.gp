# throughput.gp: chart 1, throughput against concurrency (or offered rate),
# one line per deployment (and client region), mean over cycles with
# min-max error bars.
# Set by loadgen: data (one block per series: level, mean, min, max),
# n, name[n], color[n], dash[n], chart_title, xlabel_text, ylabel_text.
load scripts."/common.gp"
set title chart_title
set xlabel xlabel_text
set ylabel ylabel_text
set yrange [0:*]
# Room at both ends, so the first and last error bars are not cut by the axes.
set autoscale xfix
set offsets graph 0.03, graph 0.03, 0, 0
set grid xtics ytics
set key outside right top vertical
plot for [i=1:n] data index (i-1) using 1:2:3:4 with yerrorlines \
        lw 2.5 dt dash[i] pt 7 ps 1.1 lc rgb color[i] title name[i]

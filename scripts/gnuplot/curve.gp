# curve.gp: chart 8, latency against throughput over the levels of a sweep,
# perf_analyzer's curve: one line per deployment, p99 solid and p50
# dashed in the same colour (the title says so), each point marked with its
# concurrency; the legend outside, right.
# Set by loadgen: data (one block per deployment: images/s, p50 ms, p99 ms,
# threads), n, name[n], color[n], dash[n] (the region's dash), chart_title.
load scripts."/common.gp"
set title chart_title
set xlabel "Throughput (images/s)"
set ylabel "Latency (ms)"
set xrange [0:*]
set yrange [0:*]
set grid xtics ytics
set key outside right top
set rmargin 28
plot for [i=1:n] data index (i-1) using 1:3 with linespoints lw 2.5 pt 7 ps 1.1 dt dash[i] \
        lc rgb color[i] title name[i], \
     for [i=1:n] data index (i-1) using 1:2 with linespoints lw 1.5 pt 6 ps 0.9 dt 2 \
        lc rgb color[i] notitle, \
     for [i=1:n] data index (i-1) using 1:3:(sprintf("%d", $4)) with labels offset 0,0.9 \
        font ",10" tc rgb color[i] notitle

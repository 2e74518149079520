# timeline.gp: chart 6, one run over time: throughput (with the
# concurrency of each level as grey steps on the right axis) above,
# p50 and p99 latency below, on the same time axis.
# Set by loadgen: data (index 0: per-second points: t, responses/s, p50,
# p99, colour; a blank line between levels; index 1: concurrency steps:
# t, threads), chart_title, level_text, xmax, y2top.
load scripts."/common.gp"
set multiplot layout 2,1 title chart_title font ",18" margins 0.09,0.90,0.10,0.88 spacing 0,0.06
set xrange [0:xmax]
set grid xtics ytics
set ylabel "Throughput (responses/s)"
set y2label level_text
set y2tics nomirror
set ytics nomirror
set yrange [0:*]
set y2range [0:y2top]
set format x ""
# Legends sit just above each panel, where they cannot hide a point.
set key at graph 1, graph 1.01 right bottom horizontal noopaque nobox
plot data index 0 using 1:2:5 with linespoints lw 2 pt 7 ps 1 lc rgb variable title "throughput", \
     data index 1 using 1:2 axes x1y2 with lines lw 2 dt 2 lc rgb "#909090" title level_text
unset y2tics
unset y2label
set format x "%g"
set xlabel "Time since the run started (s)"
set ylabel "Latency (ms)"
plot data index 0 using 1:3:5 with linespoints lw 2 pt 7 ps 1 lc rgb variable title "p50", \
     data index 0 using 1:4:5 with linespoints lw 2 dt 2 pt 6 ps 1 lc rgb variable title "p99"
unset multiplot

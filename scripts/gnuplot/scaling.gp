# scaling.gp: chart 7, throughput against the number of GPU nodes, with
# the ideal (linear from the smallest cluster) as a dashed line in the same
# colour and each point's scaling efficiency written next to it.
# Set by loadgen: data (one block per model: nodes, mean, min, max,
# ideal, efficiency text, its height or "?" for none, what each node added
# since the previous point as text), n, name[n], color[n], chart_title, xmax.
load scripts."/common.gp"
set title chart_title
set xlabel "GPU nodes"
set ylabel "Throughput (images/s)"
# Room on the right for the last point's two lines of text.
set xrange [0.5:xmax + 0.75]
set xtics 1
set yrange [0:*]
set grid xtics ytics
set key top left
plot for [i=1:n] data index (i-1) using 1:5 with lines lw 2 dt 2 lc rgb color[i] \
        title name[i]." ideal (linear)", \
     for [i=1:n] data index (i-1) using 1:2:3:4 with yerrorlines lw 2.5 pt 7 ps 1.2 \
        lc rgb color[i] title name[i]." measured", \
     for [i=1:n] data index (i-1) using 1:7:6 with labels left offset 1,-0.6 font ",12" \
        tc rgb color[i] notitle, \
     for [i=1:n] data index (i-1) using 1:7:8 with labels left offset 1,-1.6 font ",11" \
        tc rgb color[i] notitle

# common.gp: terminal, fonts and style shared by every loadgen chart.
# loadgen plot writes a small preamble that sets the variables below, then
# runs gnuplot on the preamble and one chart script, which loads this file.
# Every string variable (names, titles, paths) is read by the preamble from
# a data file, never written as a literal: text from result files must not
# reach gnuplot's command language (`...` runs a shell command there), so a
# script evals or @-expands only strings it set itself (keyplace, valueopts).
#   fmt  "png", "svg" or "pdf"
#   out  the file to write
# Labels come from the results (model names like mobilenet_v2), so
# enhanced text is off: an underscore must print as an underscore.
if (fmt eq "svg") {
    set terminal svg size 1280,720 font "DejaVu Sans,14" background rgb "white"
} else {
    if (fmt eq "pdf") {
        set terminal pdfcairo size 13.33in,7.5in font "DejaVu Sans,14"
    } else {
        set terminal pngcairo size 1280,720 font "DejaVu Sans,14" background rgb "white"
    }
}
set output out
set termoption noenhanced
set encoding utf8
set datafile separator "\t"
set datafile missing "?"
set border 3 lw 1.2 lc rgb "#404040"
set tics nomirror out
set grid ytics lc rgb "#dcdcdc" lw 1 dt 1
set key opaque box lc rgb "#c0c0c0" samplen 2 spacing 1.2
set title font ",18"

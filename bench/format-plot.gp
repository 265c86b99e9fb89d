# format-plot.gp: charts of the format microbenchmark.
#
# Called by run-format.sh as
#   gnuplot -e "dir='bench/out'" bench/format-plot.gp
# with dir holding format-lookups.dat (dataset, then lookups/s in millions
# for lines, the seed's sorted search, tinycdb, LMDB, batched, and the
# bound: rows read with their numbers given) and format-lines.dat
# (dataset, then mean and p99 distinct index lines for lines and the
# sorted search).  Writes format-lookups.png and format-lines.png into dir.

set terminal pngcairo size 900,520 font "DejaVu Sans,10"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key below horizontal
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0

set output dir."/format-lookups.png"
set title "Hot random lookups of present keys, value read (per CPU second, median of 5 runs)"
set ylabel "million lookups/s"
plot dir."/format-lookups.dat" using 2:xtic(1) title "bundle lines" lc rgb "#1f77b4", \
     '' using 3 title "sorted search (seed)" lc rgb "#c6dbef", \
     '' using 4 title "tinycdb" lc rgb "#ff7f0e", \
     '' using 5 title "LMDB" lc rgb "#2ca02c", \
     '' using 6 title "lines, batched x16 (not single)" lc rgb "#9467bd" fillstyle pattern 4, \
     '' using 7 title "bound: row read, number known (no index)" lc rgb "#7f7f7f" fillstyle pattern 2

set output dir."/format-lines.png"
set title "Distinct index cache lines per lookup (64 B lines)"
set ylabel "lines per lookup"
plot dir."/format-lines.dat" using 2:xtic(1) title "lines, mean" lc rgb "#1f77b4", \
     '' using 3 title "lines, p99" lc rgb "#6baed6", \
     '' using 4 title "sorted (seed), mean" lc rgb "#d62728", \
     '' using 5 title "sorted (seed), p99" lc rgb "#ff9896"

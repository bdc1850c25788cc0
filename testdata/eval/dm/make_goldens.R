# Regenerates dm_goldens.csv with R forecast 8.20's dm.test (Diebold-Mariano test with the
# Harvey-Leybourne-Newbold correction).   Rscript make_goldens.R > dm_goldens.csv
suppressMessages(library(forecast))
# Two error series of length 40 from deterministic formulas (no RNG, so C++ rebuilds them).
t <- 1:40
e1 <- sin(t * 0.7) + 0.3 * cos(t * 1.3)
e2 <- 0.8 * sin(t * 0.7 + 0.4) + 0.5 * cos(t * 2.1) + 0.1
cat("h,power,alternative,statistic,pvalue\n")
for (h in c(1, 2, 4)) for (power in c(1, 2)) for (alt in c("two.sided", "less", "greater")) {
  r <- dm.test(e1, e2, alternative = alt, h = h, power = power)
  cat(sprintf("%d,%d,%s,%.17g,%.17g\n", h, power, alt, r$statistic, r$p.value))
}

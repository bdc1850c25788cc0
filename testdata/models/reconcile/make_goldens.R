# Reconciliation goldens computed with base R only (R's hts is not in Debian 12), independently
# of almanac's code path: MinT and WLS through the "U" form of Wickramasuriya et al. (2019,
# eq. 9 / Lemma 1),  G = J - J W U (U' W U)^-1 U',  with U' = [I | -C] (aggregates first,
# then the bottom series; C the aggregate rows of S) and J = [0 | I]; almanac computes
# G = (S' W^-1 S)^-1 S' W^-1. The shrinkage estimator follows hts 6.0's shrink.estim().
# Run from the repository root:  Rscript testdata/models/reconcile/make_goldens.R
out <- "testdata/models/reconcile/"
fmt <- function(v) trimws(formatC(v, digits = 17, format = "g"))
set.seed(25)

structures <- list(
  # A country, two regions, five provinces (a three-level hierarchy).
  regions = list(bottom = c("N1", "N2", "S1", "S2", "S3"),
                 aggs = list(Country = c("North", "South"), North = c("N1", "N2"), South = c("S1", "S2", "S3"))),
  # GDP by expenditure component and by region over the same bottom series (a grouped structure).
  gdp = list(bottom = c("C_east", "C_west", "I_east", "I_west", "G_east", "G_west"),
             aggs = list(GDP = c("C_east", "C_west", "I_east", "I_west", "G_east", "G_west"),
                         C = c("C_east", "C_west"), I = c("I_east", "I_west"), G = c("G_east", "G_west"),
                         East = c("C_east", "I_east", "G_east"), West = c("C_west", "I_west", "G_west")))
)

expand <- function(name, st) {
  if (name %in% st$bottom) return(as.numeric(st$bottom == name))
  Reduce(`+`, lapply(st$aggs[[name]], expand, st = st))
}

shrink <- function(x) {  # hts shrink.estim with tar = diag(diag(covm))
  n <- nrow(x)
  covm <- crossprod(x) / n
  tar <- diag(diag(covm))
  corm <- cov2cor(covm)
  xs <- scale(x, center = FALSE, scale = sqrt(diag(covm)))
  v <- (1 / (n * (n - 1))) * (crossprod(xs^2) - 1 / n * (crossprod(xs))^2)
  diag(v) <- 0
  d <- (corm - cov2cor(tar))^2
  lambda <- max(min(sum(v) / sum(d), 1), 0)
  list(cov = lambda * tar + (1 - lambda) * covm, lambda = lambda)
}

hier_rows <- list(); base_rows <- list(); res_rows <- list(); rec_rows <- list()
for (sname in names(structures)) {
  st <- structures[[sname]]
  nodes <- c(names(st$aggs), st$bottom)
  S <- rbind(t(sapply(names(st$aggs), expand, st = st)), diag(length(st$bottom)))
  nb <- length(st$bottom); na <- length(st$aggs); nn <- na + nb
  C <- S[seq_len(na), , drop = FALSE]
  U <- rbind(diag(na), -t(C))  # nn x na: U' = [I | -C]
  J <- cbind(matrix(0, nb, na), diag(nb))
  hier_rows[[sname]] <- data.frame(structure = sname, name = names(st$aggs),
                                   parts = sapply(st$aggs, paste, collapse = ";"))
  # Correlated bottom residuals, aggregate residuals = their sums plus noise, T = 48.
  Tn <- 48; h <- 4
  L <- matrix(rnorm(nb * nb, sd = 0.3), nb); diag(L) <- 1 + seq_len(nb) / 4
  eb <- matrix(rnorm(Tn * nb), Tn) %*% L
  res <- cbind(eb %*% t(C) + matrix(rnorm(Tn * na, sd = 0.5), Tn), eb)
  base <- matrix(100 * S %*% runif(nb, 1, 3), nn, h) + matrix(rnorm(nn * h, sd = 5), nn)  # incoherent
  base_rows[[sname]] <- data.frame(structure = sname, node = nodes, matrix(fmt(base), nn, dimnames = list(NULL, paste0("h", 1:h))))
  res_rows[[sname]] <- data.frame(structure = sname, node = nodes, matrix(fmt(t(res)), nn, dimnames = list(NULL, paste0("t", 1:Tn))))
  # The same inputs as the CLI reads them (docs/reconcile.md): a hierarchy file and wide CSVs.
  writeLines(c(paste0("bottom: [", paste(st$bottom, collapse = ", "), "]"), "aggregates:",
               paste0("  ", names(st$aggs), ": [", sapply(st$aggs, paste, collapse = ", "), "]")),
             paste0(out, sname, ".yaml"))
  write.csv(data.frame(h = 1:h, matrix(fmt(t(base)), h, dimnames = list(NULL, nodes)), check.names = FALSE),
            paste0(out, sname, "_base.csv"), row.names = FALSE, quote = FALSE)
  write.csv(data.frame(t = 1:Tn, matrix(fmt(res), Tn, dimnames = list(NULL, nodes)), check.names = FALSE),
            paste0(out, sname, "_residuals.csv"), row.names = FALSE, quote = FALSE)
  sh <- shrink(res)
  Ws <- list(bottom_up = NULL, ols = diag(nn), wls_struct = diag(rowSums(S)),
             wls_var = diag(colSums(res^2) / Tn), mint_shrink = sh$cov)
  for (m in names(Ws)) {
    G <- if (m == "bottom_up") J else { W <- Ws[[m]]; J - J %*% W %*% U %*% solve(t(U) %*% W %*% U, t(U)) }
    rec <- S %*% G %*% base
    rec_rows[[paste(sname, m)]] <- data.frame(structure = sname, method = m, node = nodes,
      shrinkage = if (m == "mint_shrink") fmt(sh$lambda) else "NA",
      matrix(fmt(rec), nn, dimnames = list(NULL, paste0("h", 1:h))))
  }
}
write.csv(do.call(rbind, hier_rows), paste0(out, "hierarchies.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, base_rows), paste0(out, "base.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, res_rows), paste0(out, "residuals.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, rec_rows), paste0(out, "reconciled.csv"), row.names = FALSE, quote = FALSE)

# Regenerates the ARIMAX goldens (regression with ARIMA errors) from R forecast 8.20's
# Arima(y, order, seasonal, xreg = ...) and forecast(fit, xreg = future).
#   Rscript make_goldens.R > goldens.json
# Data: R's datasets::Seatbelts (UK road casualties 1969-1984, public domain / R base data):
# drivers killed or seriously injured, with the petrol price and the seat-belt law dummy as
# regressors. The last 12 months are the "known future" regressor paths.
suppressMessages(library(forecast))
stopifnot(packageVersion("forecast") == "8.20")
# A small JSON writer (no JSON package is installed).
numv <- function(x) paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ","), "]")
num1 <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
str1 <- function(x) paste0("\"", x, "\"")
strv <- function(x) paste0("[", paste(str1(x), collapse = ","), "]")
obj <- function(kv) paste0("{", paste(paste0(str1(names(kv)), ":", unlist(kv)), collapse = ",\n"), "}")
sb <- datasets::Seatbelts
n <- nrow(sb)
train <- 1:(n - 12)
test <- (n - 11):n
num <- function(x) unname(as.numeric(x))
one <- function(name, y, order, seasonal, xreg, include_mean = TRUE, include_drift = FALSE, method = "CSS-ML") {
  fit <- Arima(y[train], order = order, seasonal = list(order = seasonal, period = 12),
               xreg = xreg[train, , drop = FALSE], include.mean = include_mean, include.drift = include_drift,
               method = method)
  fc <- forecast(fit, xreg = xreg[test, , drop = FALSE], level = c(80, 95))
  obj(list(name = str1(name), order = numv(order), seasonal = numv(seasonal), period = "12",
           include_mean = tolower(include_mean), include_drift = tolower(include_drift), method = str1(method),
           y = numv(as.numeric(y)),
           xreg = paste0("[", paste(sapply(seq_len(ncol(xreg)), function(j) numv(as.numeric(xreg[, j]))), collapse = ","), "]"),
           xreg_names = strv(colnames(xreg)), n_train = as.character(length(train)),
           coef_names = strv(names(coef(fit))), coef = numv(coef(fit)), se = numv(sqrt(diag(fit$var.coef))),
           loglik = num1(fit$loglik), aic = num1(fit$aic), aicc = num1(fit$aicc), bic = num1(fit$bic),
           sigma2 = num1(fit$sigma2), method_string = str1(forecast:::arima.string(fit, padding = FALSE)),
           mean = numv(fc$mean), lower80 = numv(fc$lower[, 1]), upper80 = numv(fc$upper[, 1]),
           lower95 = numv(fc$lower[, 2]), upper95 = numv(fc$upper[, 2])))
}
x2 <- sb[, c("PetrolPrice", "law")]
cases <- list(
  one("drivers_101_011", sb[, "drivers"], c(1, 0, 1), c(0, 1, 1), x2),
  one("log_front_110_drift", log(sb[, "front"]), c(1, 1, 0), c(0, 0, 0), x2, include_drift = TRUE),
  one("drivers_200_mean", sb[, "drivers"], c(2, 0, 0), c(0, 0, 0), x2),
  one("kms_100_one", log(sb[, "kms"]), c(1, 0, 0), c(1, 0, 0), sb[, "PetrolPrice", drop = FALSE])
)
cat(paste0("{\"source\": \"R forecast 8.20 Arima(xreg=) on datasets::Seatbelts\",\n\"cases\": [\n",
           paste(unlist(cases), collapse = ",\n"), "]}\n"))

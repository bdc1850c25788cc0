# A minimal HTTP/1.1 responder for the client's 503 handling, which a real server only gives
# under an overload no test can time reliably. Usage: Rscript fake_503_server.R PORT READY STATUS...
# answers one connection per STATUS (503 with Retry-After: 1, or 200 with a series list), in order.
args <- commandArgs(trailingOnly = TRUE)
s <- serverSocket(as.integer(args[1]))
writeLines("ready", args[2])
for (status in args[-(1:2)]) {
  con <- socketAccept(s, blocking = TRUE, open = "r+b", timeout = 30)
  repeat {
    l <- readLines(con, n = 1L)
    if (length(l) == 0L || l %in% c("", "\r")) break
  }
  body <- if (status == "200") '{"series":[],"request_id":"00000000000000c8"}' else
    '{"code":"UNAVAILABLE","message":"overloaded: the worker queue is full","request_id":"00000000000001f7"}'
  head <- sprintf("HTTP/1.1 %s %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n",
                  status, if (status == "200") "OK" else "Service Unavailable", nchar(body),
                  if (status == "503") "Retry-After: 1\r\nX-Request-Id: 00000000000001f7\r\n" else "")
  cat(head, body, file = con, sep = "")
  flush(con)
  close(con)
}
close(s)

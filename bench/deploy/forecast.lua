-- wrk script of the rolling-restart benchmark: POST /v1/forecast with the token in TOKEN.
wrk.method = "POST"
wrk.body = '{"model":"deploy-gdp","horizon":4}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
-- A new connection per request: a graceful `nginx -s reload` (after each replica's restart, so
-- that nginx resolves its new address) closes idle keep-alive connections, and a client that
-- races a request onto one sees the close (wrk counts a read error; HTTP clients retry).
wrk.headers["Connection"] = "close"

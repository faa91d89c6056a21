"""Real `wrk --latency` reports (wrk 4.1.0, Debian), captured from runs against a bare aiohttp
server on this machine; the parser is tested against exactly what wrk prints."""

# taskset -c 1 wrk -t1 -c64 -d2s --latency http://127.0.0.1:18765/ping
OK_MS = """\
Running 2s test @ http://127.0.0.1:18765/ping
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.84ms    4.05ms  39.17ms   79.55%
    Req/Sec     7.39k     1.87k   10.78k    70.00%
  Latency Distribution
     50%    8.12ms
     75%   10.36ms
     90%   13.41ms
     99%   25.16ms
  14743 requests in 2.02s, 2.46MB read
Requests/sec:   7316.36
Transfer/sec:      1.22MB
"""

# taskset -c 1 wrk -t1 -c1 -d1s --latency http://127.0.0.1:18765/ping  (microsecond units)
OK_US = """\
Running 1s test @ http://127.0.0.1:18765/ping
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   375.43us  380.10us   4.68ms   92.95%
    Req/Sec     3.14k   550.07     3.90k    60.00%
  Latency Distribution
     50%  262.00us
     75%  349.00us
     90%  641.00us
     99%    2.20ms
  3128 requests in 1.00s, 534.57KB read
Requests/sec:   3126.26
Transfer/sec:    534.27KB
"""

# taskset -c 1 wrk -t1 -c16 -d1s --latency http://127.0.0.1:18765/missing  (every answer a 404)
NOT_FOUND = """\
Running 1s test @ http://127.0.0.1:18765/missing
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.52ms    4.57ms  32.73ms   85.84%
    Req/Sec     3.31k     0.91k    4.87k    60.00%
  Latency Distribution
     50%    3.63ms
     75%    6.88ms
     90%   11.01ms
     99%   23.45ms
  3308 requests in 1.00s, 562.10KB read
  Non-2xx or 3xx responses: 3308
Requests/sec:   3293.30
Transfer/sec:    559.60KB
"""

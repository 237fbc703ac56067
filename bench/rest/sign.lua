-- sign.lua - wrk script for bench/rest/run: POST /v1/orders, each request
-- signed as bourse-rest wants it (gateways/rest/README.md, Authentication).
--
--   wrk -s bench/rest/sign.lua URL -- KEY1 SECRET1 KEY2 SECRET2 RUN
--
-- Requests alternate between two trader keys: KEY1's account buys, KEY2's
-- sells, both a limit order of 0.01 BTC at 60000.00. Whichever side arrives
-- first rests and the next opposite order trades with it, so only one side of
-- the book ever holds orders and it holds |buys - sells| of them at most: the
-- book stays small however long the run, and no order meets its own account
-- (no self-trade prevention on the path).
--
-- Replay guard (gateways/common/auth.h): a signature is accepted once while
-- its timestamp is in the receive window. Two requests of one millisecond
-- could otherwise be identical, so every body carries a client_order_id made
-- of RUN (one per wrk run), the wrk thread and a per-thread counter: every
-- body, hence every signature, is unique. The timestamp is the real time in
-- ms (LuaJIT ffi clock_gettime; os.time() has only seconds).
--
-- SHA-256 and HMAC are written here in Lua over LuaJIT's `bit` library, with
-- the key's inner and outer pad blocks hashed once per thread (the HMAC
-- midstates), so a request costs four compressions. bench/rest/run checks
-- this code against openssl before it benchmarks: with BENCH_REST_SELFTEST
-- set, loading the script prints HMACs of fixed inputs and exits.
--
-- done() prints one line for the run script:
--   BENCH-REST requests=N duration_us=N rps=X p50_us=X p90_us=X p99_us=X
--              p999_us=X max_us=X non2xx=N connect=N read=N write=N timeout=N

local bit = require("bit")
local ffi = require("ffi")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local ror, rshift, lshift, tobit, tohex = bit.ror, bit.rshift, bit.lshift, bit.tobit, bit.tohex
local byte, char, rep, fmt, concat = string.byte, string.char, string.rep, string.format, table.concat

-- ------------------------------------------------------------------ SHA-256
local K = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
for i = 1, 64 do K[i] = tobit(K[i]) end
local IV = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
for i = 1, 8 do IV[i] = tobit(IV[i]) end

local W = {}

-- One 64-byte block of s at byte offset off (0-based) into the state H.
-- Sums of up to five 32-bit values are exact in a double; tobit wraps them.
local function compress(H, s, off)
    for i = 1, 16 do
        local j = off + i * 4 - 3
        local b1, b2, b3, b4 = byte(s, j, j + 3)
        W[i] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
    end
    for i = 17, 64 do
        local w15, w2 = W[i - 15], W[i - 2]
        local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
        local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
        W[i] = tobit(W[i - 16] + s0 + W[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for i = 1, 64 do
        local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
        local ch = bxor(band(e, f), band(bnot(e), g))
        local t1 = h + S1 + ch + K[i] + W[i]
        local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
        local maj = bxor(band(a, b), band(a, c), band(b, c))
        h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + S0 + maj)
    end
    H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
    H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

-- Finishes a hash whose state H0 already took `done` bytes (a multiple of
-- 64) with msg; returns the 8 state words. H0 is left as it was.
local function finish(H0, done, msg)
    local H = { H0[1], H0[2], H0[3], H0[4], H0[5], H0[6], H0[7], H0[8] }
    local len = #msg
    local bits = (done + len) * 8 -- far below 2^32 here: the high word is 0
    local pad = 64 - (len + 9) % 64
    if pad == 64 then pad = 0 end
    local m = msg .. "\128" .. rep("\0", pad) .. "\0\0\0\0" ..
        char(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255), band(rshift(bits, 8), 255), band(bits, 255))
    for off = 0, #m - 64, 64 do compress(H, m, off) end
    return H
end

local function words_bytes(H)
    local t = {}
    for i = 1, 8 do
        local x = H[i]
        t[i] = char(band(rshift(x, 24), 255), band(rshift(x, 16), 255), band(rshift(x, 8), 255), band(x, 255))
    end
    return concat(t)
end

local function words_hex(H)
    return tohex(H[1], 8) .. tohex(H[2], 8) .. tohex(H[3], 8) .. tohex(H[4], 8) ..
        tohex(H[5], 8) .. tohex(H[6], 8) .. tohex(H[7], 8) .. tohex(H[8], 8)
end

-- ---------------------------------------------------------------- HMAC
local function unhex(h)
    return (h:gsub("..", function(x) return char(tonumber(x, 16)) end))
end

-- The inner and outer midstates of HMAC-SHA256 for a key of at most 64 bytes.
local function hmac_key(key)
    assert(#key <= 64, "HMAC keys longer than a block are not needed here")
    key = key .. rep("\0", 64 - #key)
    local ip, op = {}, {}
    for i = 1, 64 do
        local k = byte(key, i)
        ip[i] = char(bxor(k, 0x36))
        op[i] = char(bxor(k, 0x5c))
    end
    local hi = { unpack(IV) }
    local ho = { unpack(IV) }
    compress(hi, concat(ip), 0)
    compress(ho, concat(op), 0)
    return { inner = hi, outer = ho }
end

local function hmac_hex(k, msg)
    return words_hex(finish(k.outer, 64, words_bytes(finish(k.inner, 64, msg))))
end

-- ---------------------------------------------------------------- clock
ffi.cdef [[
typedef struct { long sec; long nsec; } bench_rest_timespec_t;
int clock_gettime(int clk, bench_rest_timespec_t *ts);
]]
local tsbuf = ffi.new("bench_rest_timespec_t")
local function now_ms()
    ffi.C.clock_gettime(0, tsbuf) -- CLOCK_REALTIME: the gateway's receive window is wall time
    return tonumber(tsbuf.sec) * 1000 + math.floor(tonumber(tsbuf.nsec) / 1000000)
end

-- ---------------------------------------------------------------- self-test
-- Prints one HMAC a line for bench/rest/run to compare with openssl:
--   BENCH_REST_SELFTEST="SECRET_HEX|msg1|msg2|..."  (no '|' inside a message)
local st = os.getenv("BENCH_REST_SELFTEST")
if st then
    local parts = {}
    for p in (st .. "|"):gmatch("([^|]*)|") do parts[#parts + 1] = p end
    local k = hmac_key(unhex(parts[1]))
    for i = 2, #parts do io.write(hmac_hex(k, parts[i]), "\n") end
    io.flush()
    os.exit(0)
end

-- ---------------------------------------------------------------- wrk hooks
local nthreads = 0
function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
end

local keys, head, cidp
local n = 0

function init(args)
    assert(#args == 5, "usage: wrk -s sign.lua URL -- KEY1 SECRET1 KEY2 SECRET2 RUN")
    keys = {
        { id = args[1], k = hmac_key(unhex(args[2])), side = "buy" },
        { id = args[3], k = hmac_key(unhex(args[4])), side = "sell" },
    }
    local host = wrk.host .. ":" .. wrk.port
    head = "POST /v1/orders HTTP/1.1\r\nHost: " .. host .. "\r\nContent-Type: application/json\r\n"
    -- a client_order_id never starts with 0; RUN < 90 and tid < 10 keep the widths fixed
    cidp = fmt("%02d%d", 10 + tonumber(args[5]), tid or 1)
end

function request()
    n = n + 1
    local key = keys[n % 2 + 1]
    local body = '{"symbol":"BTC-USD","side":"' .. key.side ..
        '","price":"60000.00","qty":"0.01","client_order_id":' .. cidp .. fmt("%010d", n) .. '}'
    local ts = fmt("%d", now_ms())
    local sig = hmac_hex(key.k, ts .. "POST/v1/orders" .. body)
    return head .. "Content-Length: " .. #body .. "\r\nX-Bourse-Key: " .. key.id ..
        "\r\nX-Bourse-Timestamp: " .. ts .. "\r\nX-Bourse-Signature: " .. sig .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(fmt("BENCH-REST requests=%d duration_us=%d rps=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f " ..
        "p999_us=%.1f max_us=%.1f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration, summary.requests / secs,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
        latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end

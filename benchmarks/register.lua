-- wrk script: POST the registration form, each request with a new email address.
-- The session cookie and CSRF token come from the environment (one browser session).
local cookie = os.getenv("BENCH_COOKIE")
local token = os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_PATH")
local run = os.time()  -- runs are seconds apart: no address repeats across runs
local counter = 0
local created = 0

-- Runs in the main state; `id` becomes a global of each thread's own state.
function setup(thread)
  created = created + 1
  thread:set("id", created)
end

function request()
  counter = counter + 1
  local body = "name=Load+Test&language=de&consent=y&csrf_token=" .. token ..
    "&email=load" .. run .. "x" .. id .. "x" .. counter .. "x" .. math.random(1, 1000000000) .. "@example.org"
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, body)
end

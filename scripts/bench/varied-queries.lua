-- wrk script: package_search with a different query on (nearly) every request, so answers come
-- from the index, not from the answer cache. Two words from the list, and a random page.
local words = { "公交", "站点", "医院", "学校", "养老", "停车", "空气", "企业", "招聘", "景区",
  "充电桩", "水质", "线路", "名录", "统计", "许可", "监测", "服务", "公园", "图书馆" }

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

math.randomseed(42)

request = function()
  local q = words[math.random(#words)] .. " " .. words[math.random(#words)]
  local start = math.random(0, 400) * 10
  local path = "/api/3/action/package_search?q=" .. urlencode(q)
    .. "&facet.field=%5B%22organization%22,%22tags%22,%22res_format%22%5D&rows=10&start=" .. start
  return wrk.format("GET", path)
end

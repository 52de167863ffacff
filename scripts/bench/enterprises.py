"""Writes a deterministic table of licensed enterprises as CSV (UTF-8, header row): the data of
the data-plane benchmark. About 120 bytes a row, Chinese names, districts and statuses,
coordinates inside Shanghai.

    python3 scripts/bench/enterprises.py ROWS OUT.csv
"""

import csv
import random
import sys

DISTRICTS = [
    "黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区",
    "宝山区", "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区",
]
KINDS = ["有限责任公司", "股份有限公司", "个人独资企业", "合伙企业", "外商投资企业", "个体工商户"]
STATUSES = ["存续", "在业", "迁出", "注销", "吊销"]
WORDS = ["华", "申", "浦", "海", "东", "新", "信", "达", "通", "恒", "瑞", "丰", "德", "利", "安", "和",
         "盛", "佳", "明", "正", "源", "汇", "鑫", "科", "远", "宏", "嘉", "泰", "立", "博"]
TRADES = ["科技", "贸易", "餐饮", "物流", "咨询", "建筑", "医药", "文化", "电子", "服装", "食品", "印务"]
CODE = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def main():
    rows, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(20261204)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["credit_code", "name", "district", "kind", "registered_capital",
                    "longitude", "latitude", "licence_date", "status"])
        for i in range(rows):
            district = DISTRICTS[rng.randrange(len(DISTRICTS))]
            name = (
                "上海" + "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4)))
                + rng.choice(TRADES) + rng.choice(["有限公司", "股份有限公司", "商行", "经营部"])
            )
            code = "9131" + "".join(rng.choice(CODE) for _ in range(13)) + str(i % 10)
            w.writerow([
                code,
                name,
                district,
                KINDS[rng.randrange(len(KINDS))],
                f"{rng.uniform(1, 50000):.2f}",
                f"{rng.uniform(121.0, 121.9):.6f}",
                f"{rng.uniform(30.7, 31.6):.6f}",
                f"{rng.randint(1995, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                STATUSES[rng.randrange(len(STATUSES))],
            ])


if __name__ == "__main__":
    main()

-- The clauses of bench/clauses.pol written by hand as one DuckDB query, from the policy texts:
-- what a good engineer would write without polc.  DECIMAL money, every item rounded half up to
-- the fen.  $SRC is the Parquet file of typed applicants.  Used as the reference in bench/batch.py.
WITH f AS (SELECT file_row_number + 1 AS "行号", * EXCLUDE (file_row_number)
           FROM read_parquet('$SRC', file_row_number = true)),
c AS (
  SELECT "行号",
    -- 厦门（三）首版次软件：最高不超过30%，单个项目最高不超过300万元
    首版次软件国内领先 AND 首年度销售收入 >= 1000000 AS ok1,
    ROUND(LEAST(首年度销售收入 * 0.30, 3000000), 2) AS a1,
    -- 厦门（八）算力券：按年度营业收入分档
    算力服务费用 > 0 AS ok2,
    ROUND(CASE WHEN 年度营业收入 >= 1000000000 THEN LEAST(算力服务费用 * 0.30, 10000000)
               WHEN 年度营业收入 >= 100000000 THEN LEAST(算力服务费用 * 0.40, 5000000)
               ELSE LEAST(算力服务费用 * 0.50, 2000000) END, 2) AS a2,
    -- 漳州（二）：30万元（含）以上按省级政策；10万元（含）至30万元（不含）按年 50%/40%/30%
    CASE WHEN 年度算力服务费 >= 300000 THEN 'deferred'
         WHEN 年度算力服务费 >= 100000 AND 享受年度 IN (1, 2, 3) THEN 'amount'
         ELSE 'not_applicable' END AS o3,
    ROUND(年度算力服务费 * CASE 享受年度 WHEN 1 THEN 0.50 WHEN 2 THEN 0.40 WHEN 3 THEN 0.30 END, 2) AS a3,
    -- 漳州（六）晋级补差
    营收增速 >= 行业平均增速 AND 营业收入 >= 30000000 AS ok4,
    GREATEST(CASE WHEN 营业收入 >= 100000000 THEN 1500000 WHEN 营业收入 >= 80000000 THEN 1000000
                  WHEN 营业收入 >= 50000000 THEN 800000 ELSE 500000 END - 已获晋级奖励, 0) AS a4,
    -- 廊坊 2：落户50万；攻关60%、使用50%就高；每个单位每年最高100万元
    当年落户 AS landing,
    CASE WHEN 攻关算力成本 > 0 THEN ROUND(攻关算力成本 * 0.60, 2) END AS research,
    CASE WHEN 本地算力使用费用 > 0 THEN ROUND(本地算力使用费用 * 0.50, 2) END AS usage
  FROM f),
g AS (
  SELECT *,
    research IS NOT NULL AND research > 0 AND research >= COALESCE(usage, 0) AS research_wins,
    usage IS NOT NULL AND usage > COALESCE(research, 0) AS usage_wins,
    LEAST(GREATEST(COALESCE(research, 0), COALESCE(usage, 0)),
          1000000 - CASE WHEN landing THEN 500000 ELSE 0 END) AS best_paid
  FROM c)
SELECT "行号",
  CASE WHEN ok1 THEN 'ceiling' ELSE 'not_applicable' END AS "首版次软件奖励.结果",
  CAST(CASE WHEN ok1 THEN a1 END AS DECIMAL(38, 2)) AS "首版次软件奖励.金额",
  CASE WHEN ok2 THEN 'ceiling' ELSE 'not_applicable' END AS "算力券补助.结果",
  CAST(CASE WHEN ok2 THEN a2 END AS DECIMAL(38, 2)) AS "算力券补助.金额",
  o3 AS "算力服务补助.结果",
  CAST(CASE WHEN o3 = 'amount' THEN a3 END AS DECIMAL(38, 2)) AS "算力服务补助.金额",
  CASE WHEN ok4 THEN 'amount' ELSE 'not_applicable' END AS "晋级奖励.结果",
  CAST(CASE WHEN ok4 THEN a4 END AS DECIMAL(38, 2)) AS "晋级奖励.金额",
  CASE WHEN landing THEN 'amount' ELSE 'not_applicable' END AS "落户算力券.结果",
  CAST(CASE WHEN landing THEN 500000 END AS DECIMAL(38, 2)) AS "落户算力券.金额",
  CASE WHEN research IS NOT NULL THEN 'amount' ELSE 'not_applicable' END AS "攻关算力券.结果",
  CAST(CASE WHEN research IS NOT NULL THEN (CASE WHEN research_wins THEN best_paid ELSE 0 END) END
       AS DECIMAL(38, 2)) AS "攻关算力券.金额",
  CASE WHEN usage IS NOT NULL THEN 'amount' ELSE 'not_applicable' END AS "使用算力券.结果",
  CAST(CASE WHEN usage IS NOT NULL THEN (CASE WHEN usage_wins THEN best_paid ELSE 0 END) END
       AS DECIMAL(38, 2)) AS "使用算力券.金额",
  CAST(CASE WHEN o3 = 'amount' THEN a3 ELSE 0 END + CASE WHEN ok4 THEN a4 ELSE 0 END
       + CASE WHEN landing THEN 500000 ELSE 0 END
       + CASE WHEN research_wins OR usage_wins THEN best_paid ELSE 0 END AS DECIMAL(38, 2)) AS "合计"
FROM g
ORDER BY "行号"

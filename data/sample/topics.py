"""Latent expertise topics of the sample generator (the hidden ground truth's vocabulary).

Each industry domain has 6–7 topics. A topic has two disjoint pools of phrasings:

- ``talent``: how an expert writes it (academic terms, abbreviations, English mixed in);
- ``need``: how an enterprise writes it (the symptom, the product, the business goal).

Talent text is rendered only from the talent pool and need text only from the need pool, so
a need and its relevant talents rarely share a rare literal token; they are related by
meaning (and by the broader chain vocabulary that many talents share). Topics are listed so
that neighbours in a domain are closely related (relevance 1 in the qrels).

Line format: ``key | talent phrasings ; … | need phrasings ; …``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One latent expertise topic."""

    id: str
    domain: str
    talent: tuple[str, ...]
    need: tuple[str, ...]


DISCIPLINES: dict[str, tuple[str, ...]] = {
    "nylon": ("高分子材料与工程", "化学工程与工艺", "材料科学与工程"),
    "uhv": ("电气工程", "高电压与绝缘技术", "电力系统及其自动化"),
    "steel": ("冶金工程", "材料加工工程", "金属材料工程"),
    "building": ("无机非金属材料工程", "土木工程", "材料科学与工程"),
    "coalchem": ("化学工程与工艺", "矿业工程", "应用化学"),
    "energy": ("新能源科学与工程", "电气工程", "材料物理"),
    "env": ("环境工程", "环境科学", "热能与动力工程"),
    "equipment": ("机械工程", "控制科学与工程", "机械电子工程"),
    "ev": ("车辆工程", "电气工程", "材料成型及控制工程"),
    "electronics": ("计算机科学与技术", "电子科学与技术", "软件工程"),
    "pharma": ("药学", "生物工程", "中药学"),
    "food": ("食品科学与工程", "农学", "动物科学"),
    "ceramics": ("陶瓷艺术设计", "旅游管理", "材料科学与工程"),
    "newmat": ("材料科学与工程", "无机非金属材料工程", "材料物理与化学"),
    "photonics": ("光学工程", "光电信息科学与工程", "电子科学与技术"),
}

DOMAIN_OF_CHAIN: dict[str, str] = {
    "尼龙新材料": "nylon", "特高压电气": "uhv", "特宽厚钢": "steel", "新型建材": "building",
    "煤化工": "coalchem", "新能源": "energy", "节能环保": "env", "高端装备": "equipment",
    "新能源汽车": "ev", "电子信息": "electronics", "生物医药": "pharma",
    "农产品加工": "food", "钧瓷文旅": "ceramics", "新材料": "newmat", "数字光电": "photonics",
}
"""Topic domain of each canonical chain name (both cities)."""

_RAW: dict[str, str] = {
    "nylon": """
pa66_poly | 聚酰胺66熔融缩聚动力学 ; PA66连续聚合工艺 ; PA66盐成盐与聚合过程建模 | 切片相对黏度波动、批次一致性差 ; 切片端氨基含量偏高导致染色不匀 ; 提升万吨级装置产品品质
yarn | 超高强聚酰胺纤维高倍牵伸 ; 高强低伸工业丝纺丝成形 ; high-tenacity nylon filament | 帘线用长丝强力偏低难以满足轮胎厂要求 ; 安全气囊用丝断头率高 ; 开发汽车安全气囊织物原料
monomer | 丁二烯直接氢氰化合成己二腈 ; 腈类加氢制备脂肪族二胺 ; ADN/HMDA中间体催化 | 上游双胺原料长期依赖外购 ; 原料装置催化剂寿命短、选择性低 ; 打通关键单体国产化路线
compound | 玻纤增强PA6复合材料界面改性 ; 聚酰胺工程塑料增韧 ; 无卤阻燃聚酰胺配方设计 | 汽车进气歧管零件耐热不足 ; 电器外壳需通过UL94 V-0燃烧测试 ; 注塑件翘曲和浮纤严重
bio | 生物基戊二胺与PA56合成 ; 微生物发酵法制备聚合单体 ; 长碳链聚酰胺PA1012 | 开发可再生原料来源的新型尼龙产品 ; 降低产品碳足迹满足品牌绿色采购 ; 耐油耐低温管材料开发
recycle | 废旧聚酰胺化学解聚回收 ; 再生PA66造粒与提纯 ; nylon depolymerization | 纺丝废丝和边角料大量积压 ; 生产废料综合利用降低成本 ; 建设废料回用生产线
textile | 锦纶6差别化纤维研制 ; 细旦多孔锦纶长丝DTY/FDY ; 锦纶功能改性 | 服装面料用丝手感和上色均匀性差 ; 开发凉感、抗菌等功能性面料 ; 民用丝产品附加值低
""",
    "uhv": """
breaker | SF6断路器电弧等离子体仿真 ; 大容量灭弧室结构优化 ; arc interruption modeling | 高压开关短路电流型式试验未通过 ; 提升550kV开关设备短路开断能力 ; 开关产品冲击国网招标门槛
insulation | 环氧树脂绝缘材料老化机理 ; 固体绝缘结构电场调控 ; 复合介质介电特性 | 盆式绝缘子浇注件开裂和气泡 ; 浇注件出厂耐压试验合格率低 ; 提高浇注产品批量生产一致性
pd | 局部放电特高频检测与模式识别 ; 电力设备状态评估 ; partial discharge diagnosis | 变电站在线监测系统误报多 ; 开关柜运行工况无法实时感知 ; 用户要求提供设备健康度评价
ecogas | C4F7N环保绝缘气体 ; 六氟化硫替代混合气体绝缘性能 ; 气体绝缘介质分解特性 | 按双碳要求淘汰高温室效应产品 ; 开发无氟环保型开关柜 ; 出口欧洲产品面临F-gas法规限制
mechanism | 弹簧操动机构动力学 ; 液压操作机构可靠性分析 ; 机械特性测试方法 | 开关分合闸时间离散度大 ; 传动部件卡涩拒动故障 ; 降低产品售后返修率
hvdc | 柔性直流输电换流阀 ; 混合式直流断路器拓扑 ; VSC-HVDC控制保护 | 承接跨区电网工程成套设备订单 ; 新能源基地送出工程配套产品 ; 进入远距离送电市场
""",
    "steel": """
tmcp | 控轧控冷组织调控 ; TMCP低碳贝氏体钢 ; 热机械轧制过程模拟 | 宽厚板低温冲击韧性不稳定 ; 高强板屈强比偏高 ; 提高船板和桥梁板一次合格率
clean | 钢中非金属夹杂物控制 ; 洁净钢冶炼与精炼渣系 ; clean steel refining | 厚板超声波探伤不合格率高 ; 连铸坯内部缺陷导致分层 ; 大单重坯料质量不稳
heat | 淬火回火热处理工艺 ; 调质钢组织与性能 ; 辊底式炉热处理建模 | 耐磨板硬度均匀性差 ; 出炉后板形不平 ; 压力容器板力学指标波动
weld | 焊接热影响区组织与韧性 ; 大线能量焊接用钢 ; welding metallurgy | 客户反映钢板焊后开裂 ; 海洋平台用板可焊性要求高 ; 降低下游施焊预热成本
stainless | 双相不锈钢耐蚀机理 ; 奥氏体不锈钢冶炼 ; stainless steel corrosion | 卷板表面出现麻点锈斑 ; 化工容器用板耐腐蚀性能提升 ; 开发食品级用材
green | 氢冶金与低碳炼铁 ; 钢铁流程碳排放建模 ; 电炉短流程冶炼 | 超低排放改造与降碳 ; 降低吨钢能耗和二氧化碳排放 ; 应对欧盟碳边境调节
""",
    "building": """
waste | 工业固废资源化制备胶凝材料 ; 煤矸石与粉煤灰活化 ; 碱激发材料 | 电厂灰渣和矸石大量堆存急需消纳 ; 利用尾矿生产墙材产品 ; 大宗废弃物变废为宝
prefab | 装配式混凝土结构节点性能 ; 预制构件生产工艺 ; prefabricated construction | PC构件厂生产效率低、模具周转慢 ; 叠合板出厂开裂 ; 拓展保障房项目配套
admix | 聚羧酸减水剂分子设计 ; 混凝土外加剂作用机理 ; 高性能混凝土配合比 | 商品砼坍落度损失快 ; 冬季施工强度增长慢 ; 搅拌站原材料波动大
wall | 建筑节能保温材料 ; 气凝胶复合绝热材料 ; 相变储能墙体 | 外墙保温板防火等级不达标 ; 开发A级不燃外墙产品 ; 被动式住宅配套
cement | 低钙硅酸盐胶凝体系与碳化养护 ; 窑炉协同处置 ; CO2 mineralization | 降低熟料系数 ; 窑线能耗高 ; 水泥企业减碳转型
waterproof | 高分子防水卷材 ; 聚氨酯防水涂料 ; 防水层失效机理与耐久性 | 地下室和屋面渗漏投诉多 ; 产品耐老化性能差 ; 开拓地铁隧道工程市场
""",
    "coalchem": """
coking | 炼焦配煤与焦炭质量预测 ; 焦炉加热制度优化 ; coal blending for coke | 焦化产品热态强度CSR波动 ; 配合煤成本高 ; 焦化厂提质增效
tar | 煤焦油深加工与分离 ; 针状焦制备 ; 沥青基炭材料 | 焦化副产品高附加值利用 ; 开发电池负极原料 ; 延伸下游高端碳产品
hydrogen | 焦炉煤气变压吸附提氢 ; 氢气纯化与燃料电池级氢 ; PSA hydrogen purification | 副产气综合利用效率低 ; 建设高纯氢充装站 ; 对接氢能重卡用氢
gasify | 煤气化反应器数值模拟 ; 气流床气化 ; 合成气制甲醇与乙二醇 | 造气装置运行周期短 ; 醇类产品单耗偏高 ; 装置扩能改造
catalyst | 多相催化与分子筛 ; 费托合成活性组分设计 ; heterogeneous catalysis | 装置用催化剂进口依赖 ; 转化率低副产物多 ; 降低催化剂采购成本
mine | 煤矿瓦斯抽采与利用 ; 矿井灾害早期识别 ; 智能开采与综采自动化 | 井下安全风险监测预警 ; 实现工作面少人化无人化 ; 老矿区降本增效
sic | 硅碳复合负极材料 ; 纳米硅包覆改性 ; Si/C anode | 锂电池原料产品首次库伦效率低 ; 开发高容量电池材料 ; 导入动力电池客户
""",
    "energy": """
pv | 晶硅太阳电池钝化接触 ; TOPCon与HJT高效电池 ; 钙钛矿叠层电池 | 组件转换效率落后同行 ; 电池片产线升级换代 ; 屋顶电站发电量偏低
cathode | 锂离子电池正极材料 ; 磷酸铁锂改性 ; LFP cathode | 电芯循环寿命短 ; 储能电芯一致性差 ; 降低电池关键材料成本
sodium | 钠离子电池层状氧化物 ; 硬碳负极 ; sodium-ion battery | 开发低成本替代锂电的储能产品 ; 低温环境下电池容量衰减 ; 规避锂资源价格波动
ems | 储能系统能量管理与调度优化 ; 电池SOC估计 ; BMS算法 | 电站收益低、充放电策略不合理 ; 电池簇过热告警 ; 参与电力现货市场
h2 | PEM电解水制氢 ; 燃料电池膜电极 ; 氢能储运 | 绿氢项目可行性研究 ; 利用弃风弃光生产氢气 ; 氢气运输成本高
grid | 风电功率预测 ; 新能源并网稳定性 ; 微电网控制 | 厂区分布式发电消纳难 ; 源网荷储一体化项目 ; 园区用电成本高
""",
    "env": """
flue | 烟气脱硫脱硝一体化 ; SCR催化剂 ; 超低排放技术 | 锅炉氮氧化物排放超标 ; 窑炉尾气治理 ; 环保督察整改
water | 高盐有机废水处理 ; 膜分离与MBR ; 高级氧化 | 化工园区污水COD难达标 ; 废水零排放改造 ; 污水站运行费用高
voc | 挥发性有机物吸附催化燃烧 ; VOCs治理 ; RTO蓄热燃烧 | 喷涂车间异味扰民 ; 有机废气收集效率低 ; 重污染天气管控停产
heat | 余热回收与有机朗肯循环 ; 工业能效提升 ; 换热网络优化 | 高温烟气热量白白浪费 ; 降低单位产品能耗 ; 争创绿色工厂
carbon | 二氧化碳捕集与利用 ; 碳排放核算方法 ; 碳足迹LCA | 应对碳配额履约 ; 企业碳盘查 ; 出口产品碳标签
sludge | 污泥减量化与资源化 ; 危险废物安全处理 ; 土壤重金属修复 | 污水厂泥饼填埋成本高 ; 场地污染治理 ; 危废仓库积压
""",
    "equipment": """
hydraulic | 电液伺服控制 ; 液压支架可靠性设计 ; hydraulic system dynamics | 立柱千斤顶渗漏、阀组故障频发 ; 综采成套设备国产化配套 ; 产品在高端煤矿客户中口碑差
robot | 工业机器人运动控制与轨迹规划 ; 机器人焊接离线编程 ; robot kinematics | 焊接工位人工多、质量不稳 ; 上下料自动化改造 ; 一线招工难
diag | 旋转机械振动故障诊断 ; 轴承剩余寿命预测 ; PHM健康管理 | 大型风机泵组非计划停机 ; 设备维护全靠老师傅经验 ; 降低备件库存
cnc | 五轴数控加工与误差补偿 ; 精密切削工艺 ; CNC machining | 大型结构件加工精度不够 ; 加工中心效率低 ; 刀具消耗大
additive | 金属增材制造 ; 激光熔覆再制造 ; selective laser melting | 磨损零件修复成本高 ; 复杂零件小批量快速试制 ; 进口备件周期长
factory | 数字孪生与智能工厂 ; 工业互联网平台 ; MES系统 | 车间数据不透明、排产靠人工 ; 建设数字化车间 ; 申报两化融合示范
motor | 防爆电机电磁设计 ; 永磁同步电机 ; electric machine design | 主打产品温升偏高、效率不达标 ; 开发高效节能驱动产品 ; 满足新能效标准
""",
    "ev": """
edrive | 永磁驱动电机控制 ; 电驱动总成NVH ; SiC电机控制器 | 电驱系统噪声大 ; 三合一电驱开发 ; 配套主机厂新车型
thermal | 动力电池热管理 ; 热泵空调 ; 热失控机理 | 电池包冬季续航衰减 ; 电池起火安全隐患 ; 整车能耗偏高
light | 铝合金一体化压铸 ; 汽车轻量化结构优化 ; 碳纤维复合材料车身 | 整车结构件减重 ; 压铸件气孔缺陷 ; 降低单车材料成本
charge | 大功率直流快充 ; 无线充电 ; V2G车网互动 | 充电站建设运营 ; 用户反映补能时间长 ; 停车场配套补能设施
adas | 自动驾驶感知融合 ; 激光雷达与视觉SLAM ; ADAS | 园区无人物流车 ; 矿区无人驾驶运输 ; 降低司机人力成本
truck | 电动重卡换电 ; 氢燃料电池商用车动力系统 ; 商用车电动化 | 矿区短倒运输车辆油改电 ; 换电站布局 ; 柴油运输车队替代
""",
    "electronics": """
cv | 计算机视觉与目标检测 ; 深度学习图像识别 ; CNN/YOLO | 产品表面缺陷靠人工目检 ; 监控视频智能分析 ; 质检人员流动大
iot | 物联网传感网络 ; 低功耗无线通信 ; LoRa/NB-IoT | 设备接入与数据采集 ; 远程抄表 ; 厂区资产定位
chip | 模拟集成电路设计 ; SoC验证 ; IC design | 国产芯片替代 ; 控制板卡元器件断供 ; 开发专用控制器
data | 大数据平台与数据治理 ; 分布式计算 ; data mining | 企业信息分散在多个系统 ; 经营报表手工统计 ; 管理层看不到实时经营情况
security | 网络安全与入侵检测 ; 密码学 ; 工业控制系统安全 | 工控系统遭勒索病毒 ; 通过等保测评 ; 生产网与办公网隔离
nlp | 自然语言处理与大语言模型 ; 知识图谱 ; LLM | 智能客服 ; 政策文件智能检索问答 ; 合同审核效率低
""",
    "pharma": """
api | API合成工艺路线优化 ; 手性药物不对称合成 ; 连续流化学 | 原料药收率低杂质超标 ; 车间工艺放大失败 ; 降低溶剂消耗
formulation | 缓控释制剂 ; 仿制药一致性评价 ; 药物递送系统 | 片剂溶出曲线与参比不一致 ; 品种过评 ; 集采中标后降本
tcm | 中药质量标志物 ; 中药指纹图谱 ; 经典名方开发 | 道地药材深加工 ; 艾草产品开发 ; 山茱萸等特色药材附加值低
ivd | 免疫诊断试剂 ; POCT即时检测 ; 分子诊断PCR | 基层医院快速检测设备 ; 检测试剂盒国产化 ; 体检中心检测通量不足
ferment | 合成生物学与代谢工程 ; 微生物发酵工艺 ; 酶工程 | 菌种产物效价低 ; 生物法替代化学合成 ; 罐体染菌
device | 医用高分子材料 ; 康复机器人 ; 医疗器械法规事务 | 一次性耗材产品注册 ; 助行辅具开发 ; 养老机构护理设备
""",
    "food": """
flour | 小麦淀粉与面筋蛋白 ; 面制品品质改良 ; wheat flour rheology | 速冻水饺皮开裂 ; 挂面断条率高 ; 开发高端面点产品
meat | 肉品加工与保鲜 ; 低温肉制品 ; cold chain | 熟食货架期短 ; 冷鲜肉损耗大 ; 预制菜品质稳定
safety | 食品安全快速检测 ; 农兽药残留分析 ; 真菌毒素 | 原料验收检测慢 ; 出口农产品检测不过关 ; 建立质量追溯体系
ferment | 益生菌筛选与功能发酵 ; 发酵食品香气物质形成 ; 乳酸菌 | 酱料风味不稳定 ; 开发肠道健康饮品 ; 传统腌制品工业化
livestock | 生猪健康养殖与疫病防控 ; 动物营养与饲料配方 ; swine nutrition | 养殖场喂料成本高、料肉比偏高 ; 猪场生物安全 ; 规模化牧场管理
fungus | 食用菌栽培育种 ; 香菇深加工 ; edible fungi | 菌菇产品附加值低 ; 菌棒污染率高 ; 山区特色产业增收
agri | 智慧农业遥感 ; 作物遗传育种 ; precision agriculture | 高标准农田数字化管理 ; 优质花生品种推广 ; 合作社种植管理粗放
""",
    "ceramics": """
glaze | 铜红窑变釉呈色机理 ; 陶瓷釉料配方 ; glaze chemistry | 钧瓷成品率低、釉色效果不可控 ; 釉面缩釉针孔 ; 新釉色开发
firing | 柴烧与气窑烧成制度 ; 陶瓷烧结 ; kiln atmosphere | 窑炉能耗高 ; 升温曲线靠经验 ; 大件器物变形开裂
heritage | 非物质文化遗产保护与传承 ; 传统手工艺口述史 ; 陶瓷史研究 | 老艺人技艺后继乏人 ; 申报国家级非遗 ; 建设传习基地
creative | 文创产品设计 ; 品牌IP ; 工业设计 | 礼品瓷款式老旧 ; 打开年轻消费者市场 ; 线上销售渠道单一
tourism | 乡村旅游规划 ; 全域旅游 ; 旅游目的地营销 | 景区客流少 ; 研学线路设计 ; 古镇夜游项目
digital | 数字化文化展示与虚拟现实 ; 文物三维数字化 ; VR/AR | 博物馆线上展示 ; 沉浸式体验项目 ; 展馆互动内容更新
""",
    "newmat": """
superhard | 高温高压合成金刚石 ; 立方氮化硼单晶 ; CVD diamond | 锯片刀头磨料寿命短 ; 培育钻石品质提升 ; 超硬刀具出口
graphite | 天然石墨球化与提纯 ; 锂电负极材料 ; graphite anode | 鳞片原矿深加工附加值低 ; 电池厂对碳材料杂质要求严 ; 矿山资源综合利用
refractory | 耐火材料抗侵蚀 ; 镁碳砖 ; refractory ceramics | 钢包内衬寿命短 ; 窑炉炉衬频繁检修 ; 降低吨钢耐材消耗
composite | 碳纤维树脂基复合材料 ; 复合材料成型工艺 ; CFRP | 风机叶片减重 ; 轻质高强结构件 ; 替代进口预浸料
coating | 热喷涂与表面工程 ; 耐磨防腐涂层 ; PVD | 零件磨损腐蚀快 ; 刀具使用寿命短 ; 阀门密封面失效
powder | 粉末冶金 ; 高温合金 ; powder metallurgy | 复杂小零件机加工成本高 ; 耐高温部件国产化 ; 航空配套准入
""",
    "photonics": """
design | 光学系统设计与像差校正 ; 变焦镜头设计 ; Zemax | 监控镜头成像边缘模糊 ; 车载镜头开发 ; 大光圈产品
polish | 非球面精密光学加工 ; 光学冷加工 ; 磁流变抛光 | 镜片面形精度不够 ; 加工良率低 ; 人工研磨效率低
film | 光学薄膜设计与镀膜 ; 增透膜 ; thin film optics | 镜片反射率高、膜层脱落 ; 滤光片开发 ; 手机摄像头配套
infrared | 红外热成像探测器 ; 非制冷红外焦平面 ; thermal imaging | 测温安防设备 ; 夜视产品 ; 电力巡检
laser | 光纤激光器 ; 超快激光加工 ; fiber laser | 切割设备功率提升 ; 金属打标 ; 进口光源替代
vision | 机器视觉检测算法 ; 三维测量结构光 ; 3D vision | 产线尺寸在线检测 ; 机械手定位引导 ; 减少质检人工
""",
}


def _parse() -> dict[str, list[Topic]]:
    out: dict[str, list[Topic]] = {}
    for domain, block in _RAW.items():
        topics = []
        for line in block.strip().splitlines():
            key, talent, need = (part.strip() for part in line.split("|"))
            topics.append(Topic(
                f"{domain}.{key}", domain,
                tuple(p.strip() for p in talent.split(" ; ")),
                tuple(p.strip() for p in need.split(" ; ")),
            ))
        out[domain] = topics
    return out


TOPICS: dict[str, list[Topic]] = _parse()
"""Topics per domain, neighbours closely related."""


def related(topic: Topic) -> list[Topic]:
    """The topics closely related to ``topic``: its neighbours in the domain list.

    Args:
        topic: a topic.

    Returns:
        One or two topics of the same domain.
    """
    items = TOPICS[topic.domain]
    i = items.index(topic)
    return [items[j] for j in (i - 1, i + 1) if 0 <= j < len(items)]

//! Every cashier-facing string of the TUI in English and Simplified Chinese.
//!
//! One table row per text, both languages side by side, so a new text cannot be added in one
//! language only. Texts with values use numbered placeholders `{0}`, `{1}` filled by [`trf`]; a
//! test checks that both languages use the same placeholders and that no text is empty.

use crate::config::Language;

macro_rules! texts {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        /// A text key; [`tr`] gives its words in a language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum T { $($key),* }

        impl T {
            /// Every key, in table order.
            pub const ALL: &'static [T] = &[$(T::$key),*];
        }

        /// English table, indexed by `T as usize`.
        const EN: &[(T, &str)] = &[$((T::$key, $en)),*];
        /// Chinese table, indexed by `T as usize`.
        const ZH: &[(T, &str)] = &[$((T::$key, $zh)),*];
    };
}

texts! {
    // Titles and navigation
    AppTitle => "paycode — WeChat Pay", "paycode — 微信支付收银";
    ScreenSale => "Sale", "收款";
    ScreenHistory => "History", "流水";
    ScreenPending => "Pending", "待处理";
    ScreenRefund => "Refund", "退款";
    ScreenDiagnostics => "Diagnostics", "诊断";
    ScreenHelp => "Keys", "按键说明";
    KeysSale => "Enter next · Tab code field · Esc clear · F1 help · F2 history · F3 pending · F4 refund · F5 diagnostics · F6 中文 · F10 quit",
        "Enter 下一步 · Tab 付款码输入 · Esc 清除 · F1 帮助 · F2 流水 · F3 待处理 · F4 退款 · F5 诊断 · F6 English · F10 退出";
    KeysWaiting => "Esc cancel the sale (asks to confirm)", "Esc 取消交易(需确认)";
    KeysSettling => "Settling the sale with WeChat: wait for the result", "正在与微信确认该笔交易:请等待结果";
    KeysResult => "Enter next sale", "Enter 下一笔";
    KeysResultRescan => "Scan the new code now, or Enter to start over", "直接扫描新付款码,或按 Enter 重新开始";
    KeysBack => "Esc back to sale", "Esc 返回收款";
    KeysRefund => "↑/↓ pick a paid sale · Enter next · amount (Enter = all left) · reason 1–4 · Enter to confirm · manager PIN · Esc back",
        "↑/↓ 选择已支付交易 · Enter 下一步 · 金额(Enter 为全部可退)· 原因 1–4 · Enter 确认 · 店长密码 · Esc 返回";
    HelpOnSale => "Sale screen", "收款界面";
    HelpOnWaiting => "While charging", "收款进行中";
    HelpOnHistory => "History (F2)", "流水(F2)";
    HelpOnPending => "Pending (F3)", "待处理(F3)";
    HelpOnRefund => "Refund (F4)", "退款(F4)";
    HelpScroll => "↑/↓ scroll · Esc close", "↑/↓ 滚动 · Esc 关闭";
    KeysHistory => "←/→ day · ↑/↓ pick · / find · Enter detail · P reprint · S shift · F7 CSV · F8 reconcile · F9 query · Esc back",
        "←/→ 切换日期 · ↑/↓ 选择 · / 查找 · Enter 详情 · P 重印 · S 交班 · F7 CSV · F8 对账 · F9 查询 · Esc 返回";
    KeysPending => "↑/↓ select · 1 query now · 2 reverse · 3 accept (keep as paid) · Esc back", "↑/↓ 选择 · 1 立即查询 · 2 撤销 · 3 确认收款 · Esc 返回";
    // Sale entry
    AmountLabel => "Amount (yuan)", "金额(元)";
    CodeLabel => "Payment code (scan, or type 18 digits)", "付款码(扫描,或输入 18 位数字)";
    StepTypeAmount => "Type the amount and press Enter", "输入金额后按 Enter";
    StepScan => "Scan the customer's payment code", "请扫描顾客的付款码";
    FromPos => "from the POS", "来自收银机";
    StepConfirmPos => "Amount from the POS: scan the code (or Enter) to charge it, type to change it",
        "收银机金额:扫码(或按 Enter)即按此金额收款,输入数字可改";
    StepTypeCode => "Type the 18-digit code and press Enter", "输入 18 位付款码后按 Enter";
    ScanNeedsAmount => "A code was scanned but no amount is set: type the amount, then scan again",
        "已扫到付款码但尚未输入金额:请先输入金额,再重新扫描";
    DuplicateScanIgnored => "The same code was scanned twice; the repeat was ignored", "同一付款码重复扫描,已忽略重复的一次";
    BusyNoNewSale => "A sale is in progress: wait for its result", "当前交易进行中:请等待结果";
    Cleared => "Cleared", "已清除";
    // Waiting
    WaitingTitle => "Charging", "正在收款";
    PhaseSubmitting => "Sending the payment to WeChat…", "正在向微信发起收款…";
    PhaseWaitingPassword => "Waiting for the customer to enter the password", "等待顾客输入支付密码";
    PhaseQuerying => "Result unknown: asking WeChat…", "结果未知:正在向微信查询…";
    PhaseReversing => "Cancelling the payment (reverse)…", "正在撤销交易…";
    PhaseConfirming => "WeChat's answer was lost: waiting for WeChat to confirm or close the order (it may be another till's, so it is not reversed)…",
        "微信应答丢失:等待微信确认或关闭订单(可能属于其他收银台,不撤销)…";
    PhaseRecovering => "Resuming an unfinished sale…", "正在恢复未完成的交易…";
    QueriesSoFar => "Queries so far: {0}", "已查询 {0} 次";
    ReverseAttempt => "Reverse attempt {0}", "第 {0} 次撤销";
    ReverseIn => "Reverse in {0} s if the customer does not pay", "若顾客未付款,{0} 秒后自动撤销";
    WaitIn => "Waiting {0} s more for the customer, then asking WeChat", "继续等待顾客 {0} 秒,之后向微信查询";
    ReversingIn => "Reverse in {0} s (WeChat: not sooner than 15 s after payment)", "{0} 秒后撤销(微信要求付款 15 秒后才能撤销)";
    ConfirmingIn => "At most {0} s more; then it goes on the pending list", "最多再等 {0} 秒,之后转入待处理列表";
    DoNotHandOver => "Do not hand over goods yet", "请勿交付商品";
    ConfirmCancelTitle => "Cancel this sale?", "取消这笔交易?";
    ConfirmCancelBody => "The payment will be reversed; if the customer already paid, WeChat refunds it.",
        "交易将被撤销;若顾客已付款,微信会原路退回。";
    ConfirmCancelBodyUnproven => "WeChat's answer was lost, so the order is not reversed: paycode asks WeChat until it closes it (about a minute); a payment that still arrives is refunded.",
        "微信应答丢失,订单不会被撤销:paycode 将持续向微信查询直至订单关闭(约一分钟);之后到账的付款会退回顾客。";
    ConfirmCancelKeys => "Enter: yes, cancel · Esc: no, keep waiting", "Enter:确认取消 · Esc:继续等待";
    Cancelling => "Cancelling — waiting for WeChat to confirm the reverse", "正在取消 — 等待微信确认撤销";
    // Results
    ResultPaid => "PAID", "支付成功";
    ResultNotCharged => "NOT CHARGED", "未扣款";
    ResultReversed => "REVERSED", "已撤销";
    ResultRefunded => "REFUNDED", "已退款";
    ResultUnresolved => "UNRESOLVED", "结果未明";
    PaidHandOver => "Hand over the goods", "可以交付商品";
    PaidAmount => "Paid: ¥{0}", "实收:¥{0}";
    PaidSplit => "Cash ¥{0} · coupon ¥{1}", "现金 ¥{0} · 优惠券 ¥{1}";
    TransactionId => "Transaction: {0}", "微信交易号:{0}";
    OrderNo => "Order: {0}", "订单号:{0}";
    ReversedRefunded => "The customer was charged and has been refunded", "顾客已扣款,已原路退回";
    ReversedNotCharged => "The customer was not charged", "顾客未被扣款";
    RefundedLate => "Paid too late to reverse: a refund of the whole amount went to the customer", "扣款过晚无法撤销:已向顾客全额退款";
    ReversedWhatToDo => "Start again if the customer still wants to pay", "如顾客仍要付款,请重新收款";
    UnresolvedBody => "Do NOT hand over goods. paycode keeps checking; the sale stays on the pending list (F3).",
        "请勿交付商品。系统会继续核实,该笔交易保留在待处理列表(F3)。";
    UnresolvedCheckApp => "Check the merchant app before accepting another payment from this customer",
        "再次收款前请先在商户平台核对该顾客的付款";
    // Status line
    ScannerOk => "Scanner: connected", "扫码枪:已连接";
    ScannerDown => "Scanner: disconnected", "扫码枪:已断开";
    PoleOpen => "POS display: connected", "收银机客显:已连接";
    PoleDown => "POS display: not connected", "收银机客显:未连接";
    ScannerKeyboardOnly => "Scanner: keyboard", "扫码枪:键盘输入";
    NetOk => "Network: OK {0} ms", "网络:正常 {0} ms";
    NetDown => "Network: no answer", "网络:无响应";
    NetUnknown => "Network: not checked yet", "网络:尚未检测";
    ModeSimulator => "SIMULATOR", "模拟器";
    ModeLive => "LIVE", "正式";
    SimulatorBanner => "SIMULATOR — no real money. Press ? for the scenario table", "模拟器 — 不涉及真实资金。按 ? 查看场景表";
    ScenarioTitle => "Simulator scenarios (digits 3–6 of the code)", "模拟器场景(付款码第 3–6 位)";
    JournalDown => "JOURNAL ERROR — payments disabled: {0}", "账本错误 — 已停止收款:{0}";
    // Start-up recovery
    RecoveryTitle => "Start-up check of unfinished sales", "启动检查:未完成的交易";
    PendingCount => "F3 pending: {0}", "F3 待处理:{0} 笔";
    PrinterQueued => "{0} receipt(s) queued", "{0} 张小票排队中";
    DiagPrinter => "Receipt printer", "小票打印机";
    RecoveryNone => "No unfinished sales", "没有未完成的交易";
    RecoveryRunning => "Resolving unfinished sales with WeChat…", "正在向微信核实未完成的交易…";
    RecoveryStillPending => "{0} sale(s) still unresolved: see Pending (F3)", "仍有 {0} 笔未明交易:见待处理(F3)";
    SettledTitle => "Pending sales settled by WeChat", "待处理交易已由微信确认";
    SettledPaidHint => "The customer WAS charged: hand over the goods, or refund it (F4)", "顾客已被扣款:请交付商品,或为其退款(F4)";
    SettledQuiet => "{0} pending sale(s) settled: not charged", "{0} 笔待处理交易已确认:未扣款";
    SettledRefunded => "{0} pending sale(s) settled: the customer was charged and the whole amount goes back (reversed or refunded)", "{0} 笔待处理交易已确认:顾客曾被扣款,全额已退回(撤销或退款)";
    SettledBoth => "{0} pending sale(s) settled not charged, {1} charged and the whole amount goes back", "{0} 笔待处理交易已确认未扣款,{1} 笔曾扣款,全额已退回";
    ReportFirst => "Read the report and press Enter first", "请先阅读报告并按 Enter";
    PressEnter => "Press Enter to continue", "按 Enter 继续";
    // History
    HistoryTitle => "Sales on {0}", "{0} 的流水";
    HistoryEmpty => "No sales on this day", "当天没有交易";
    FindPrompt => "Find (order no., WeChat transaction no. or amount): {0}▏ Enter find · Esc close", "查找(订单号、微信交易单号或金额):{0}▏ Enter 查找 · Esc 关闭";
    FindNone => "No sale of this day matches \"{0}\": try another day (←/→) · Esc close", "当天没有匹配 \"{0}\" 的交易:可换一天(←/→)· Esc 关闭";
    HistoryLoading => "Loading…", "加载中…";
    TotalsByState => "Totals by state", "按状态汇总";
    TotalsByHour => "Net takings by hour", "按小时实收";
    TotalNet => "Net takings: ¥{0}", "实收(已扣退款):¥{0}";
    TotalRefunds => "Refunds made: {0} · ¥{1}", "当日退款:{0} 笔 · ¥{1}";
    DetailRefunded => "Refunded: ¥{0}", "已退款:¥{0}";
    ColTime => "Time", "时间";
    ColAmount => "Amount", "金额";
    ColState => "State", "状态";
    ColOrder => "Order", "订单号";
    ColCode => "Code", "付款码";
    ColCount => "Count", "笔数";
    ColNote => "Note", "备注";
    StatePaid => "paid", "已支付";
    RefundNeedsPin => "Refunds are off on this till until a manager PIN is set: put 4–12 digits in a file only paycode's user can read (chmod 600) and set [ui] manager_pin_file",
        "本收银台未设置店长密码,退款已关闭:请把 4–12 位数字写入仅 paycode 用户可读的文件(chmod 600),并设置 [ui] manager_pin_file";
    RefundLocked => "Refunds are locked after 3 wrong manager PINs: try again in {0} min", "店长密码连续错误 3 次,退款已锁定:请 {0} 分钟后再试";
    RefundConfirm => "Refund ¥{0} of sale {1} to the customer?", "确认向顾客退款 ¥{0}(订单 {1})?";
    RefundConfirmKeys => "Enter: yes, refund · Esc: back", "Enter:确认退款 · Esc:返回";
    RefundLeft => "left ¥{0}", "可退 ¥{0}";
    StateRefunded => "refunded", "已退款";
    StatePartlyRefunded => "part refunded", "部分退款";
    StateFailed => "not charged", "未扣款";
    StateReversed => "reversed", "已撤销";
    StateUnresolved => "unresolved", "未明";
    StateOpen => "in progress", "处理中";
    Exported => "Exported to {0}", "已导出到 {0}";
    QueryFailed => "Could not ask WeChat: {0}", "未能查询微信:{0}";
    QueryReturned => "{0}: WeChat took the customer's money after the cashier was told not to hand over goods — paycode returned it (reversed). Do not hand over goods for it", "{0}:告知勿交付商品后微信才扣款 — paycode 已将款项退回顾客(撤销)。请勿为此交付商品";
    QueryCorrected => "{0}: WeChat says PAID although the journal said not charged — corrected to paid. The customer WAS charged: hand over the goods, or refund (F4)", "{0}:账本曾记为未扣款,但微信显示已支付 — 已更正为已支付。顾客已被扣款:请交付商品,或退款(F4)";
    ReconcileTitle => "Reconcile {0} with WeChat's statement · F8 again · Esc close", "与微信对账单核对 {0} · F8 重新核对 · Esc 关闭";
    ReconcileRunning => "Fetching WeChat's statement of the day…", "正在获取微信当天的对账单…";
    ReconcileFailed => "Cannot reconcile: {0}", "无法对账:{0}";
    ReconcileAgree => "All {0} orders agree with WeChat", "{0} 笔订单与微信全部一致";
    ReconcileDiffs => "{0} of {1} orders need a look", "{1} 笔订单中有 {0} 笔需要核对";
    ReconcileTotals => "Journal: paid ¥{0}, refunded ¥{1} · WeChat: paid ¥{2}, refunded ¥{3}", "账本:收款 ¥{0},退款 ¥{1} · 微信:收款 ¥{2},退款 ¥{3}";
    ExportFailed => "Export failed: {0}", "导出失败:{0}";
    ReceiptElsewhere => "That is a receipt (sale {0}), not a payment code: to refund it, press F4 and scan it there", "这是小票(订单 {0}),不是付款码:如需退款,请按 F4 后在退款界面扫描";
    ReceiptNotRefundable => "Sale {0} is not one of today's paid sales with something left to refund; an earlier day's sale: `paycode refund {0}`", "订单 {0} 不是今天尚有可退金额的已支付交易;往日的交易请用 `paycode refund {0}`";
    NoPrinter => "No receipt printer is set up ([printer] in config.toml): `paycode receipt {0} --preview` shows the slip on screen", "未配置小票打印机(config.toml 的 [printer]):`paycode receipt {0} --preview` 可在屏幕上查看小票";
    ReprintSent => "{0}: sent to the printer again (marked COPY)", "{0}:已重新发送到打印机(标注重印副本)";
    ShiftTitle => "Shift since the last handover · C hand over · ↑/↓ scroll · Esc close", "本班次(自上次交班起)· C 交班 · ↑/↓ 滚动 · Esc 关闭";
    ShiftClosedTitle => "Shift {0} — handed over · P print again · Esc close", "班次 {0} — 已交班 · P 重新打印 · Esc 关闭";
    ShiftLoading => "Reading the shift from the journal…", "正在从账本读取班次…";
    ShiftClosing => "Handing over: recording the shift…", "正在交班:记录本班次…";
    ShiftConfirm => "Hand over now? The shift is closed and kept as it is. Enter: yes · Esc: no", "现在交班?本班次将关闭并按现状存档。Enter:确认 · Esc:取消";
    ShiftHandedOver => "Shift {0} handed over and kept; the next shift starts now", "班次 {0} 已交班并存档;下一班次从现在开始";
    ShiftFailed => "Shift: {0}", "交班:{0}";
    QuitHandover => "Hand over the shift before leaving? Enter: hand over and quit · Q: quit without handing over · Esc: stay", "退出前交班吗?Enter:交班并退出 · Q:不交班直接退出 · Esc:留在收银界面";
    DetailTitle => "Sale detail", "交易详情";
    // Pending
    PendingTitle => "Unresolved sales", "未明交易";
    PendingEmpty => "Nothing pending", "没有待处理的交易";
    PendingWhy => "Why: {0}", "原因:{0}";
    PendingQuerying => "Asking WeChat about {0}…", "正在查询 {0}…";
    PendingReversing => "Reversing {0}…", "正在撤销 {0}…";
    ConfirmReverse => "Reverse {0}? Enter: yes · Esc: no", "撤销 {0}?Enter:确认 · Esc:取消";
    ConfirmAccept => "Keep {0} as PAID? Only if WeChat has it paid and the customer takes the goods; otherwise paycode returns the money. Enter: yes · Esc: no", "将 {0} 确认为已支付?仅当微信已扣款且顾客取走商品时;否则 paycode 会退回款项。Enter:确认 · Esc:取消";
    AcceptPin => "Manager PIN: {0}", "店长密码:{0}";
    PendingAccepting => "Asking WeChat before keeping {0}…", "正在向微信核实后确认 {0}…";
    // Refund
    RefundPick => "Pick a paid sale (↑/↓, Enter) or scan its receipt", "选择一笔已支付的交易(↑/↓,Enter),或扫描其小票";
    RefundNoSales => "No paid sales today to refund", "今天没有可退款的已支付交易";
    RefundAmount => "Refund amount (yuan, Enter = full ¥{0})", "退款金额(元,直接 Enter 为全额 ¥{0})";
    RefundReason => "Reason: 1 goods returned · 2 wrong amount · 3 charged twice · 4 other",
        "原因:1 退货 · 2 金额错误 · 3 重复收款 · 4 其他";
    ReasonReturned => "goods returned", "退货";
    ReasonWrongAmount => "wrong amount", "金额错误";
    ReasonChargedTwice => "charged twice", "重复收款";
    ReasonOtherRefund => "other", "其他";
    RefundPin => "Manager PIN, then Enter", "店长密码,输入后按 Enter";
    RefundPinWrong => "Wrong PIN", "密码错误";
    RefundTooMuch => "At most ¥{0} can be refunded on this sale", "该笔交易最多可退 ¥{0}";
    RefundSending => "Refund sent — waiting for WeChat to confirm…", "退款已提交 — 等待微信确认…";
    RefundDone => "REFUNDED ¥{0}", "已退款 ¥{0}";
    RefundFailed => "Refund failed: {0}", "退款失败:{0}";
    // Diagnostics
    DiagScanners => "Scanners", "扫码枪";
    DiagNoScanner => "No scanner reader configured (keyboard wedge only)", "未配置扫码枪读取(仅键盘输入)";
    DiagApi => "WeChat API latency", "微信接口延迟";
    DiagJournal => "Journal", "账本";
    DiagCert => "Merchant certificate expires", "商户证书到期";
    DiagClock => "Clock skew against WeChat", "与微信服务器的时钟偏差";
    DiagMode => "Mode", "模式";
    DiagUnknown => "not known yet", "尚未获取";
    DiagNoCert => "no client certificate configured", "未配置商户证书";
    DiagCertDays => "in {0} days", "{0} 天后";
    DiagCertExpired => "EXPIRED {0} days ago: renew it in the merchant platform", "已过期 {0} 天:请在商户平台更新证书";
    DiagLoading => "Collecting…", "正在收集…";
    // Orders from the store's POS (the local API)
    PosScanNow => "POS order {0}: {1} yuan — scan the customer's payment code (Esc turns the order down)",
        "收银机订单 {0}:{1} 元 — 请扫描顾客的付款码(Esc 拒绝该订单)";
    PosTurnedDown => "POS order {0} turned down: {1}", "已拒绝收银机订单 {0}:{1}";
    PosBusySale => "a sale is running on the cashier screen; ask again with the same ref when it has ended",
        "收银界面正在进行一笔交易;结束后请用相同的 ref 再次请求";
    PosBusyOrder => "another POS order is waiting for its scan; ask again with the same ref when it has ended",
        "另一笔收银机订单正在等待扫码;结束后请用相同的 ref 再次请求";
    PosBusyTyping => "the cashier is entering a sale of their own; ask again with the same ref when it has ended",
        "收银员正在录入自己的一笔交易;结束后请用相同的 ref 再次请求";
    PosBusyRefund => "the cashier is in the middle of a refund; ask again with the same ref when it is done",
        "收银员正在办理退款;完成后请用相同的 ref 再次请求";
    PosJournalDown => "the journal cannot be written, so no sale can start; nothing was sent — fix the disk, then ask again",
        "账本无法写入,不能开始交易;未发送任何请求 — 请先处理磁盘问题再重试";
    PosDeclined => "the cashier turned the order down on the screen; nothing was charged — ask again with the same ref to take it",
        "收银员在界面上拒绝了该订单;未扣款 — 如需收款,请用相同的 ref 再次请求";
    PosDeclinedHere => "POS order {0} turned down: the POS is told nothing was charged", "已拒绝收银机订单 {0}:已告知收银机未扣款";
    PosAmountFixed => "The amount comes from the POS order: scan or type the payment code, or Esc to turn the order down",
        "金额来自收银机订单:请扫描或输入付款码,或按 Esc 拒绝该订单";
    PosAskAgain => "That was the POS's order: the POS was told the result — start it again from the POS (same order), then scan",
        "这是收银机的订单:结果已告知收银机 — 请在收银机上重新发起(同一订单)后再扫码";
    ApiNotServed => "The POS API is not served (sales here still work): {0}", "收银机接口未启动(本机收款不受影响):{0}";
    StatusApi => "POS API", "收银机接口";
    PosCancelledByPos => "POS order {0} was cancelled by the POS: nothing was charged", "收银机已取消订单 {0}:未扣款";
    PosCancelledAnswer => "the order was cancelled before the customer's code was scanned; nothing was sent or charged",
        "订单在扫描顾客付款码之前已取消;未发送任何请求,未扣款";
    PosOrderLine => " POS order {0} — amount set by the POS ", " 收银机订单 {0} — 金额由收银机设定 ";
    // Misc
    QuitBlocked => "A sale is in progress: wait for its result before quitting", "交易进行中:请等待结果后再退出";
    LanguageSwitched => "Language: English", "语言:中文";
    Yes => "yes", "是";
    No => "no", "否";
}

/// `t` in both languages, for a message that leaves the screen (the POS's answer).
pub fn both(t: T) -> crate::words::Words {
    crate::words::Words::new(tr(Language::En, t), tr(Language::Zh, t))
}

/// The words of `t` in `lang`.
pub fn tr(lang: Language, t: T) -> &'static str {
    let table = match lang {
        Language::En => EN,
        Language::Zh => ZH,
    };
    table.get(t as usize).map(|(_, s)| *s).unwrap_or("?")
}

/// The words of `t` with `{0}`, `{1}`, … replaced by `args`.
pub fn trf(lang: Language, t: T, args: &[&str]) -> String {
    let mut s = tr(lang, t).to_string();
    for (i, a) in args.iter().enumerate() {
        s = s.replace(&format!("{{{i}}}"), a);
    }
    s
}

/// The other language (the language key toggles between the two).
pub fn other(lang: Language) -> Language {
    match lang {
        Language::Zh => Language::En,
        Language::En => Language::Zh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<usize> {
        let mut v: Vec<usize> = (0..10)
            .filter(|i| s.contains(&format!("{{{i}}}")))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn both_tables_have_every_key_in_order_and_no_empty_text() {
        assert_eq!(EN.len(), T::ALL.len());
        assert_eq!(ZH.len(), T::ALL.len());
        for (i, t) in T::ALL.iter().enumerate() {
            assert_eq!(EN[i].0, *t, "EN row {i}");
            assert_eq!(ZH[i].0, *t, "ZH row {i}");
            assert_eq!(*t as usize, i);
            assert!(!EN[i].1.trim().is_empty(), "{t:?} empty in English");
            assert!(!ZH[i].1.trim().is_empty(), "{t:?} empty in Chinese");
        }
    }

    #[test]
    fn both_languages_use_the_same_placeholders() {
        for t in T::ALL {
            assert_eq!(
                placeholders(tr(Language::En, *t)),
                placeholders(tr(Language::Zh, *t)),
                "{t:?}"
            );
        }
    }

    #[test]
    fn chinese_texts_are_translated() {
        // Every Chinese text holds at least one CJK character, except pure symbols/brands.
        for t in T::ALL {
            let zh = tr(Language::Zh, *t);
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{t:?} looks untranslated: {zh}"
            );
        }
    }

    #[test]
    fn trf_fills_placeholders() {
        assert_eq!(trf(Language::En, T::PaidAmount, &["12.34"]), "Paid: ¥12.34");
        assert_eq!(trf(Language::Zh, T::QueriesSoFar, &["3"]), "已查询 3 次");
        assert_eq!(other(Language::Zh), Language::En);
    }
}
